package graph

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// The direct executor answers queries over the portfolio types (customers, accounts, cards,
// their connections) by writing the response in one pass, without gqlgen's machinery per
// field: gqlgen gives every field of every object a field context, a deferred recover and a
// marshaller value, starts a goroutine per element of every list and per resolver field, and
// collects each object's fields again for every object. For a page of 50 customers with their
// accounts and cards that was most of the server's CPU (BENCHMARKS.md).
//
// It is an optimisation with a fallback, not a second implementation of the API:
//   - It calls the same resolvers and loaders, and coerces arguments with the generated
//     argument functions, so values, statements and scoping are the generated executor's.
//   - Anything it does not know (another root field, an interface, introspection, @defer) is
//     left to gqlgen before anything runs.
//   - Anything that would make an error (a resolver's error, a null in a non-null field, a
//     panic) abandons the direct answer, and the operation runs again through gqlgen, which
//     reports it with its path and null propagation. The loads already done stay in the
//     request's loaders, so the second run sends no statement the first one already sent.
//
// TestDirectExecutorMatchesGenerated runs queries over every field through both executors
// and compares the bytes. The handler has no field middleware (AroundFields,
// AroundRootFields): one added later would not see the fields answered here, and would have to
// turn this executor off for the operations it watches.

// directSchema wraps the generated schema and answers what it can directly.
type directSchema struct {
	*executableSchema
}

// directOffKey in a context turns the direct executor off (tests compare the two).
type directOffKey struct{}

// WithoutDirect returns a context in which every operation runs through gqlgen's generated
// executor.
func WithoutDirect(ctx context.Context) context.Context {
	return context.WithValue(ctx, directOffKey{}, true)
}

func (s directSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	if op.Operation.Operation == ast.Query && ctx.Value(directOffKey{}) == nil {
		data, tried, ok, unavailable := s.direct(ctx, op)
		if ok {
			RequestInfoFrom(ctx).setExecutor("direct")
			return graphql.OneShot(&graphql.Response{Data: data})
		}
		if unavailable != nil {
			// No data: the answer is a 503 with the error at the first root field.
			RequestInfoFrom(ctx).setExecutor("direct")
			root := graphql.CollectFields(op, op.Operation.SelectionSet, queryImplementors)
			if len(root) > 0 {
				ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Query", Field: root[0]})
			}
			graphql.AddError(ctx, unavailable)
			return graphql.OneShot(&graphql.Response{Data: []byte("null")})
		}
		if tried {
			RequestInfoFrom(ctx).setExecutor("fallback")
		}
	}
	return s.executableSchema.Exec(ctx)
}

// directBuffers keeps response buffers between requests, sized by the answers they held;
// one that grew past maxPooledBuffer is left to the garbage collector.
var directBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledBuffer = 1 << 20

// direct writes the data of the operation, or reports false to leave it to gqlgen.
// tried tells whether it began: whether it ran any resolver.
func (s directSchema) direct(ctx context.Context, op *graphql.OperationContext) (data []byte, tried, ok bool, unavailable error) {
	x := &directRun{ctx: ctx, op: op, ec: newExecutionContext(op, s.executableSchema, nil)}
	fields := x.collect(op.Operation.SelectionSet, queryImplementors)
	if fields == nil || !x.plannable(fields, "Query") {
		return nil, false, false, nil
	}
	tried = true
	bp := directBuffers.Get().(*[]byte)
	x.buf = (*bp)[:0]
	defer func() {
		if r := recover(); r != nil {
			ok = false // gqlgen runs it again, and recovers, logs and reports the panic
		}
		if cap(x.buf) <= maxPooledBuffer {
			*bp = x.buf[:0]
			directBuffers.Put(bp)
		}
	}()
	x.query(fields)
	if x.failed {
		return nil, true, false, x.unavailable
	}
	return append(make([]byte, 0, len(x.buf)), x.buf...), true, true, nil
}

// directRun is one operation's direct answer.
type directRun struct {
	ctx    context.Context
	op     *graphql.OperationContext
	ec     *executionContext
	buf    []byte
	failed bool
	// unavailable is the first resolver error that said the store was unavailable.
	unavailable error
	// resolvers holds the context of each resolver field, by field node.
	resolvers map[*ast.Field]resolved
	// children holds each selection's collected fields (childFields).
	children map[selectionKey][]graphql.CollectedField
}

// selectionKey names a field's selection as collected on some types: where its first element
// is, how many there are, and the types' list. A field collected from one node has the
// document's selection (ownSelections); one merged from several nodes has a slice of its own,
// so two parents whose selections differ never share a key, and the objects of one list,
// which share their parent's collected fields, always do.
type selectionKey struct {
	first *ast.Selection
	n     int
	types *string
}

// childFields is collect of f's selection on types, once per request and selection.
func (x *directRun) childFields(f graphql.CollectedField, types []string) []graphql.CollectedField {
	sel := ownSelections(f) // collected.go
	if len(sel) == 0 || len(types) == 0 {
		return x.collect(sel, types)
	}
	k := selectionKey{&sel[0], len(sel), &types[0]}
	if fields, ok := x.children[k]; ok {
		return fields
	}
	fields := x.collect(sel, types)
	if x.children == nil {
		x.children = map[selectionKey][]graphql.CollectedField{}
	}
	x.children[k] = fields
	return fields
}

// collect is CollectFields, or nil when a field of the selection is deferred.
func (x *directRun) collect(sel ast.SelectionSet, types []string) []graphql.CollectedField {
	fields := collected(x.op, sel, types) // collected.go
	for _, f := range fields {
		if f.IsDeferred() {
			return nil
		}
	}
	if fields == nil {
		fields = []graphql.CollectedField{}
	}
	return fields
}

// directTypes lists, per object type the direct executor writes, the type of each field it
// knows: an object type, or "" for a leaf. A field missing here leaves the operation to gqlgen.
var directTypes = map[string]map[string]string{
	"Query": {
		"__typename": "", "customer": "Customer", "customers": "CustomerConnection",
		"account": "Account", "accounts": "AccountConnection", "card": "Card", "cards": "CardConnection",
	},
	"Customer": {
		"__typename": "", "id": "", "sourceCustomerId": "", "sourceParentCustomerId": "", "organizationId": "",
		"postalCode": "", "country": "", "customerCreationDate": "", "enrollmentStartDate": "",
		"enrollmentEndDate": "", "enrollmentOptInStatus": "", "alertOptInStatus": "", "targetingIndicator": "",
		"redemptionEligibility": "", "createdAt": "", "updatedAt": "",
		"parent": "Customer", "children": "CustomerConnection", "accounts": "Account", "cards": "Card",
	},
	"Account": {
		"__typename": "", "id": "", "sourceAccountId": "", "sourceCustomerIds": "", "primarySourceCustomerId": "",
		"status": "", "type": "", "sourcePortfolioId": "", "accountOpenDate": "", "accountCloseDate": "",
		"createdAt": "", "updatedAt": "",
		"holders": "Customer", "primaryCustomer": "Customer", "cards": "Card",
	},
	"Card": {
		"__typename": "", "id": "", "sourceAccountId": "", "sourceCustomerId": "", "last4": "", "iin": "",
		"cardType": "", "status": "", "networkIdentifier": "", "network": "", "openDate": "", "closeDate": "",
		"createdAt": "", "updatedAt": "",
		"account": "Account", "customer": "Customer",
	},
	"CustomerConnection": {"__typename": "", "edges": "CustomerEdge", "nodes": "Customer", "pageInfo": "PageInfo", "totalCount": ""},
	"AccountConnection":  {"__typename": "", "edges": "AccountEdge", "nodes": "Account", "pageInfo": "PageInfo", "totalCount": ""},
	"CardConnection":     {"__typename": "", "edges": "CardEdge", "nodes": "Card", "pageInfo": "PageInfo", "totalCount": ""},
	"CustomerEdge":       {"__typename": "", "cursor": "", "node": "Customer"},
	"AccountEdge":        {"__typename": "", "cursor": "", "node": "Account"},
	"CardEdge":           {"__typename": "", "cursor": "", "node": "Card"},
	"PageInfo":           {"__typename": "", "hasNextPage": "", "hasPreviousPage": "", "startCursor": "", "endCursor": ""},
}

// directImplementors are the types a selection on each object type may match (fragments on
// the type itself or on an interface it implements).
var directImplementors = map[string][]string{
	"Query":              queryImplementors,
	"Customer":           customerImplementors,
	"Account":            accountImplementors,
	"Card":               cardImplementors,
	"CustomerConnection": customerConnectionImplementors,
	"AccountConnection":  accountConnectionImplementors,
	"CardConnection":     cardConnectionImplementors,
	"CustomerEdge":       customerEdgeImplementors,
	"AccountEdge":        accountEdgeImplementors,
	"CardEdge":           cardEdgeImplementors,
	"PageInfo":           pageInfoImplementors,
}

// plannable tells whether every field of the selection, at every depth, is one the direct
// executor writes.
func (x *directRun) plannable(fields []graphql.CollectedField, typ string) bool {
	known := directTypes[typ]
	for _, f := range fields {
		child, ok := known[f.Name]
		if !ok {
			return false
		}
		if child == "" {
			continue
		}
		sub := x.childFields(f, directImplementors[child])
		if sub == nil || !x.plannable(sub, child) {
			return false
		}
	}
	return true
}

// fail abandons the direct answer.
func (x *directRun) fail() { x.failed = true }

// failWith abandons the direct answer for a resolver's error. When the store was unavailable,
// gqlgen does not run the operation again: it would only meet the same outage (and, on a
// database that is down, try to connect once more for every request).
func (x *directRun) failWith(err error) {
	x.failed = true
	var coded *models.Error
	if x.unavailable == nil && errors.As(err, &coded) && coded.Code == models.ErrServiceUnavailable {
		x.unavailable = err
	}
}

// Writers of JSON values, byte for byte as gqlgen's marshallers write them.

func (x *directRun) key(i int, f graphql.CollectedField) {
	if i > 0 {
		x.buf = append(x.buf, ',')
	}
	x.buf = append(x.buf, '"')
	x.buf = append(x.buf, f.Alias...) // a GraphQL name: nothing to escape
	x.buf = append(x.buf, '"', ':')
}

func (x *directRun) null() { x.buf = append(x.buf, "null"...) }

// str writes s as graphql.MarshalString does.
func (x *directRun) str(s string) { x.buf = appendGraphQLString(x.buf, s) }

func (x *directRun) optStr(s *string) {
	if s == nil {
		x.null()
		return
	}
	x.str(*s)
}

// enum writes an enum value as the generated MarshalGQL does (strconv.Quote).
func (x *directRun) enum(s string) { x.buf = strconv.AppendQuote(x.buf, s) }

func (x *directRun) int(i int) { x.buf = strconv.AppendInt(x.buf, int64(i), 10) }

func (x *directRun) bool(b bool) { x.buf = strconv.AppendBool(x.buf, b) }

// time writes a DateTime as models.MarshalDateTime does.
func (x *directRun) time(t time.Time) {
	x.buf = append(x.buf, '"')
	x.buf = t.UTC().AppendFormat(x.buf, time.RFC3339Nano)
	x.buf = append(x.buf, '"')
}

func (x *directRun) optTime(t *time.Time) {
	if t == nil {
		x.null()
		return
	}
	x.time(*t)
}

const hexDigits = "0123456789ABCDEF" // gqlgen's encodeHex

// appendGraphQLString appends s quoted as gqlgen's writeQuotedString writes it: control
// characters, backslash and double quote escaped, everything else as it is. gqlgen loops over
// runes and this over bytes, which is the same: no byte of a multi-byte rune, and no byte of
// invalid UTF-8, is below 0x80.
func appendGraphQLString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		case '\n':
			b = append(b, '\\', 'n')
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// argsFunc is a generated argument coercion, such as field_Customer_accounts_args.
type argsFunc func(context.Context, map[string]any) (map[string]any, error)

// nestedList writes a resolver field of typ whose value is a non-null list of objects.
func nestedList[T any](x *directRun, typ string, f graphql.CollectedField, args argsFunc, types []string,
	load func(ctx context.Context, args map[string]any) ([]*T, error), write func([]graphql.CollectedField, *T)) {
	ctx, a, ok := x.resolverCtx(typ, f, args)
	if !ok {
		return
	}
	list, err := load(ctx, a)
	if err != nil {
		x.failWith(err)
		return
	}
	directList(x, f, types, list, write)
}

// resolve runs the resolver of field f on typ and writes its value with write: null when
// there is none, unless the field is non-null; an error abandons the direct answer.
func resolve[T any](x *directRun, typ string, f graphql.CollectedField, args argsFunc, nonNull bool,
	load func(ctx context.Context, args map[string]any) (*T, error), write func(*T)) {
	ctx, a, ok := x.resolverCtx(typ, f, args)
	if !ok {
		return
	}
	v, err := load(ctx, a)
	switch {
	case err != nil:
		x.failWith(err)
	case v == nil && nonNull:
		x.fail()
	case v == nil:
		x.null()
	default:
		write(v)
	}
}

// nestedOne writes a resolver field of typ whose value is one object, null unless nonNull.
func nestedOne[T any](x *directRun, typ string, f graphql.CollectedField, args argsFunc, types []string, nonNull bool,
	load func(ctx context.Context, args map[string]any) (*T, error), write func([]graphql.CollectedField, *T)) {
	resolve(x, typ, f, args, nonNull, load, func(v *T) { write(x.childFields(f, types), v) })
}

// directStrings writes a list of strings or enum values with quote; nil is [], as gqlgen
// writes it.
func directStrings[S ~string](x *directRun, list []S, quote func(string)) {
	x.buf = append(x.buf, '[')
	for i, s := range list {
		if i > 0 {
			x.buf = append(x.buf, ',')
		}
		quote(string(s))
	}
	x.buf = append(x.buf, ']')
}

// object writes {…} with one entry per field through write.
func (x *directRun) object(fields []graphql.CollectedField, write func(f graphql.CollectedField)) {
	x.buf = append(x.buf, '{')
	for i, f := range fields {
		if x.failed {
			return
		}
		x.key(i, f)
		write(f)
	}
	x.buf = append(x.buf, '}')
}

// list writes [...] with one object per element, collecting the selection once for all.
func directList[T any](x *directRun, f graphql.CollectedField, types []string, items []*T, write func([]graphql.CollectedField, *T)) {
	fields := x.childFields(f, types)
	x.buf = append(x.buf, '[')
	for i, it := range items {
		if x.failed {
			return
		}
		if i > 0 {
			x.buf = append(x.buf, ',')
		}
		if it == nil { // every list of objects in the schema has non-null elements
			x.fail()
			return
		}
		write(fields, it)
	}
	x.buf = append(x.buf, ']')
}

func (x *directRun) query(fields []graphql.CollectedField) {
	q := x.ec.Resolvers.Query()
	x.object(fields, func(f graphql.CollectedField) {
		switch f.Name {
		case "__typename":
			x.str("Query")
		case "customer":
			nestedOne(x, "Query", f, x.ec.field_Query_customer_args, customerImplementors, false, func(ctx context.Context, args map[string]any) (*models.Customer, error) {
				return q.Customer(ctx, args["sourceCustomerId"].(string))
			}, x.customer)
		case "customers":
			resolve(x, "Query", f, x.ec.field_Query_customers_args, true, func(ctx context.Context, args map[string]any) (*models.CustomerConnection, error) {
				return q.Customers(ctx, args["filter"].(*models.CustomerFilter), args["orderBy"].(*models.CustomerOrder),
					args["first"].(*int), args["after"].(*string), args["last"].(*int), args["before"].(*string))
			}, func(c *models.CustomerConnection) { x.customerConnection(f, c) })
		case "account":
			nestedOne(x, "Query", f, x.ec.field_Query_account_args, accountImplementors, false, func(ctx context.Context, args map[string]any) (*models.Account, error) {
				return q.Account(ctx, args["sourceAccountId"].(string))
			}, x.account)
		case "accounts":
			resolve(x, "Query", f, x.ec.field_Query_accounts_args, true, func(ctx context.Context, args map[string]any) (*models.AccountConnection, error) {
				return q.Accounts(ctx, args["filter"].(*models.AccountFilter),
					args["first"].(*int), args["after"].(*string), args["last"].(*int), args["before"].(*string))
			}, func(c *models.AccountConnection) { x.accountConnection(f, c) })
		case "card":
			nestedOne(x, "Query", f, x.ec.field_Query_card_args, cardImplementors, false, func(ctx context.Context, args map[string]any) (*models.Card, error) {
				return q.Card(ctx, args["sourceAccountId"].(string), args["sourceCustomerId"].(string), args["last4"].(string))
			}, x.card)
		case "cards":
			resolve(x, "Query", f, x.ec.field_Query_cards_args, true, func(ctx context.Context, args map[string]any) (*models.CardConnection, error) {
				return q.Cards(ctx, args["filter"].(*models.CardFilter),
					args["first"].(*int), args["after"].(*string), args["last"].(*int), args["before"].(*string))
			}, func(c *models.CardConnection) { x.cardConnection(f, c) })
		default:
			x.fail()
		}
	})
}

// resolved is a resolver field's context and coerced arguments, kept per field node.
type resolved struct {
	ctx  context.Context
	args map[string]any
	ok   bool
}

// resolverCtx is the context a resolver of field f on typ runs in, with its coerced
// arguments. It is made once per field node: siblings share it (only errors would need each
// parent's path, and an error leaves the answer to gqlgen).
func (x *directRun) resolverCtx(typ string, f graphql.CollectedField, args argsFunc) (context.Context, map[string]any, bool) {
	if r, ok := x.resolvers[f.Field]; ok {
		return r.ctx, r.args, r.ok
	}
	r := resolved{ok: true}
	fc := &graphql.FieldContext{Object: typ, Field: f, IsMethod: true, IsResolver: true}
	if args != nil {
		a, err := args(x.ctx, f.ArgumentMap(x.op.Variables))
		if err != nil {
			x.fail()
			r.ok = false
		}
		fc.Args = a
	}
	r.ctx, r.args = graphql.WithFieldContext(x.ctx, fc), fc.Args
	if x.resolvers == nil {
		x.resolvers = map[*ast.Field]resolved{}
	}
	x.resolvers[f.Field] = r
	return r.ctx, r.args, r.ok
}

func (x *directRun) customer(fields []graphql.CollectedField, c *models.Customer) {
	x.object(fields, func(f graphql.CollectedField) {
		switch f.Name {
		case "__typename":
			x.str("Customer")
		case "id":
			x.str(c.ID())
		case "sourceCustomerId":
			x.str(c.SourceCustomerID)
		case "sourceParentCustomerId":
			x.optStr(c.SourceParentCustomerID)
		case "organizationId":
			x.str(c.OrganizationID)
		case "postalCode":
			x.str(c.PostalCode)
		case "country":
			x.str(c.Country)
		case "customerCreationDate":
			x.time(c.CustomerCreationDate)
		case "enrollmentStartDate":
			x.time(c.EnrollmentStartDate)
		case "enrollmentEndDate":
			x.optTime(c.EnrollmentEndDate)
		case "enrollmentOptInStatus":
			x.enum(string(c.EnrollmentOptInStatus))
		case "alertOptInStatus":
			directStrings(x, c.AlertOptInStatus, x.enum)
		case "targetingIndicator":
			x.enum(string(c.TargetingIndicator))
		case "redemptionEligibility":
			if c.RedemptionEligibility == nil {
				x.null()
			} else {
				x.enum(string(*c.RedemptionEligibility))
			}
		case "createdAt":
			x.time(c.CreatedAt)
		case "updatedAt":
			x.time(c.UpdatedAt)
		case "parent":
			nestedOne(x, "Customer", f, nil, customerImplementors, false, func(ctx context.Context, _ map[string]any) (*models.Customer, error) {
				return x.ec.Resolvers.Customer().Parent(ctx, c)
			}, x.customer)
		case "children":
			resolve(x, "Customer", f, x.ec.field_Customer_children_args, true, func(ctx context.Context, args map[string]any) (*models.CustomerConnection, error) {
				return x.ec.Resolvers.Customer().Children(ctx, c, args["first"].(*int), args["after"].(*string))
			}, func(conn *models.CustomerConnection) { x.customerConnection(f, conn) })
		case "accounts":
			nestedList(x, "Customer", f, x.ec.field_Customer_accounts_args, accountImplementors, func(ctx context.Context, args map[string]any) ([]*models.Account, error) {
				return x.ec.Resolvers.Customer().Accounts(ctx, c, args["filter"].(*models.AccountFilter))
			}, x.account)
		case "cards":
			nestedList(x, "Customer", f, x.ec.field_Customer_cards_args, cardImplementors, func(ctx context.Context, args map[string]any) ([]*models.Card, error) {
				return x.ec.Resolvers.Customer().Cards(ctx, c, args["filter"].(*models.CardFilter))
			}, x.card)
		default:
			x.fail()
		}
	})
}

func (x *directRun) account(fields []graphql.CollectedField, a *models.Account) {
	x.object(fields, func(f graphql.CollectedField) {
		switch f.Name {
		case "__typename":
			x.str("Account")
		case "id":
			x.str(a.ID())
		case "sourceAccountId":
			x.str(a.SourceAccountID)
		case "sourceCustomerIds":
			directStrings(x, a.SourceCustomerIDs, x.str)
		case "primarySourceCustomerId":
			x.str(a.PrimarySourceCustomerID)
		case "status":
			x.enum(string(a.Status))
		case "type":
			x.enum(string(a.Type))
		case "sourcePortfolioId":
			x.str(a.SourcePortfolioID)
		case "accountOpenDate":
			x.time(a.AccountOpenDate)
		case "accountCloseDate":
			x.optTime(a.AccountCloseDate)
		case "createdAt":
			x.time(a.CreatedAt)
		case "updatedAt":
			x.time(a.UpdatedAt)
		case "holders":
			nestedList(x, "Account", f, nil, customerImplementors, func(ctx context.Context, _ map[string]any) ([]*models.Customer, error) {
				return x.ec.Resolvers.Account().Holders(ctx, a)
			}, x.customer)
		case "primaryCustomer":
			nestedOne(x, "Account", f, nil, customerImplementors, false, func(ctx context.Context, _ map[string]any) (*models.Customer, error) {
				return x.ec.Resolvers.Account().PrimaryCustomer(ctx, a)
			}, x.customer)
		case "cards":
			nestedList(x, "Account", f, x.ec.field_Account_cards_args, cardImplementors, func(ctx context.Context, args map[string]any) ([]*models.Card, error) {
				return x.ec.Resolvers.Account().Cards(ctx, a, args["filter"].(*models.CardFilter))
			}, x.card)
		default:
			x.fail()
		}
	})
}

func (x *directRun) card(fields []graphql.CollectedField, c *models.Card) {
	x.object(fields, func(f graphql.CollectedField) {
		switch f.Name {
		case "__typename":
			x.str("Card")
		case "id":
			x.str(c.ID())
		case "sourceAccountId":
			x.str(c.SourceAccountID)
		case "sourceCustomerId":
			x.str(c.SourceCustomerID)
		case "last4":
			x.str(c.Last4)
		case "iin":
			x.str(c.IIN)
		case "cardType":
			x.enum(string(c.CardType))
		case "status":
			x.enum(string(c.Status))
		case "networkIdentifier":
			x.int(c.NetworkIdentifier)
		case "network":
			x.enum(string(c.Network()))
		case "openDate":
			x.time(c.OpenDate)
		case "closeDate":
			x.optTime(c.CloseDate)
		case "createdAt":
			x.time(c.CreatedAt)
		case "updatedAt":
			x.time(c.UpdatedAt)
		case "account":
			nestedOne(x, "Card", f, nil, accountImplementors, true, func(ctx context.Context, _ map[string]any) (*models.Account, error) {
				return x.ec.Resolvers.Card().Account(ctx, c)
			}, x.account)
		case "customer":
			nestedOne(x, "Card", f, nil, customerImplementors, false, func(ctx context.Context, _ map[string]any) (*models.Customer, error) {
				return x.ec.Resolvers.Card().Customer(ctx, c)
			}, x.customer)
		default:
			x.fail()
		}
	})
}

func (x *directRun) customerConnection(f graphql.CollectedField, c *models.CustomerConnection) {
	directConnection(x, "CustomerConnection", f, customerConnectionImplementors, customerEdgeImplementors, customerImplementors,
		c.Edges, func(e *models.CustomerEdge) (string, *models.Customer) { return e.Cursor, e.Node }, c.PageInfo, c.TotalCount, x.customer)
}

func (x *directRun) accountConnection(f graphql.CollectedField, c *models.AccountConnection) {
	directConnection(x, "AccountConnection", f, accountConnectionImplementors, accountEdgeImplementors, accountImplementors,
		c.Edges, func(e *models.AccountEdge) (string, *models.Account) { return e.Cursor, e.Node }, c.PageInfo, c.TotalCount, x.account)
}

func (x *directRun) cardConnection(f graphql.CollectedField, c *models.CardConnection) {
	directConnection(x, "CardConnection", f, cardConnectionImplementors, cardEdgeImplementors, cardImplementors,
		c.Edges, func(e *models.CardEdge) (string, *models.Card) { return e.Cursor, e.Node }, c.PageInfo, c.TotalCount, x.card)
}

// directConnection writes a connection: its edges, nodes, pageInfo and totalCount.
func directConnection[E, T any](x *directRun, typ string, f graphql.CollectedField, connTypes, edgeTypes, nodeTypes []string,
	edges []*E, edge func(*E) (string, *T), info *models.PageInfo, count func(context.Context) (int, error),
	write func([]graphql.CollectedField, *T)) {
	edgeName := typ[:len(typ)-len("Connection")] + "Edge"
	x.object(x.childFields(f, connTypes), func(f graphql.CollectedField) {
		switch f.Name {
		case "__typename":
			x.str(typ)
		case "edges":
			directList(x, f, edgeTypes, edges, func(fields []graphql.CollectedField, e *E) {
				cursor, node := edge(e)
				x.object(fields, func(f graphql.CollectedField) {
					switch f.Name {
					case "__typename":
						x.str(edgeName)
					case "cursor":
						x.str(cursor)
					case "node":
						if node == nil {
							x.fail()
							return
						}
						write(x.childFields(f, nodeTypes), node)
					default:
						x.fail()
					}
				})
			})
		case "nodes":
			nodes := make([]*T, len(edges))
			for i, e := range edges {
				_, nodes[i] = edge(e)
			}
			directList(x, f, nodeTypes, nodes, write)
		case "pageInfo":
			if info == nil {
				x.fail()
				return
			}
			x.object(x.childFields(f, pageInfoImplementors), func(f graphql.CollectedField) {
				switch f.Name {
				case "__typename":
					x.str("PageInfo")
				case "hasNextPage":
					x.bool(info.HasNextPage)
				case "hasPreviousPage":
					x.bool(info.HasPreviousPage)
				case "startCursor":
					x.optStr(info.StartCursor)
				case "endCursor":
					x.optStr(info.EndCursor)
				default:
					x.fail()
				}
			})
		case "totalCount":
			ctx, _, ok := x.resolverCtx(typ, f, nil)
			if !ok {
				return
			}
			n, err := count(ctx)
			if err != nil {
				x.failWith(err)
				return
			}
			x.int(n)
		default:
			x.fail()
		}
	})
}
