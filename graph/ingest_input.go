package graph

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/portfolio-graph/portfolio-graph/db"
	"github.com/portfolio-graph/portfolio-graph/inflight"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// The customers of an ingestCustomers request are decoded straight into the resolver's inputs
// (models.InputDecoder, as the ingest command's batches are) instead of through gqlparser's
// validation of the variables and gqlgen's unmarshalling of every customer, which took more
// CPU than writing a batch of 1,000 customers. It is done only where the outcome cannot
// differ:
//
//   - the request is a POST body whose members are the transport's own (query, operationName,
//     variables, extensions, documentId), each key once and written as is, with the document's
//     text in query;
//   - the operation the transport will run (operationName, or the only one) is a mutation
//     declaring a variable of type [CustomerInput!]!, without a default value or directives,
//     which the document names nowhere else than once, as the customers argument of an
//     ingestCustomers field of the operation's own selection (not in a fragment);
//   - every customer of that variable's list is of the plain shape InputDecoder takes, which the
//     GraphQL layer turns into exactly the same inputs without any error.
//
// The variable's list is then sent on to the transport as [] (which validates and unmarshals in
// no time), and the resolver of that field takes the decoded inputs instead (decodedCustomers).
// Everything else runs as it always does: the document is parsed and validated, the other
// variables coerced, the limits and the caller's role and scope checked, the batch validated
// and written by the store, the answer written. A request of any other shape, or with a
// customer InputDecoder does not take, is passed on untouched, and the GraphQL layer answers it
// (and reports its problems) as before.
//
// A list of that shape with more customers than the store's batch limit is decoded no further
// than the limit, whatever its customers are (and with Options.GeneratedIngest not at all): the
// rest are only counted, the list is sent on as [], and the resolver answers what the store
// answers a batch over the limit (LIMIT_EXCEEDED, with the count), once the caller's role has
// been checked. Such a batch is refused whole anyway; its customers are neither decoded nor
// validated.

// decodedIngest is the decoded customers variable of one request.
type decodedIngest struct {
	// query (marked as validDocument marks it) and operationName are what the variable was
	// found in: the resolver takes the customers only for that operation.
	query, operationName string
	variable             string
	// customers are the decoded list, nil when it holds more than max (count) customers:
	// decoding stopped at the first customer beyond max, and the batch is refused.
	customers  []*models.CustomerInput
	count, max int
	mu         sync.Mutex
	taken      bool
}

type decodedIngestKey struct{}

var ingestDecoders = sync.Pool{New: func() any { return models.NewInputDecoder() }}

// ingestInput decodes the customers of ingestCustomers requests (see above), and refuses a list
// over the batch limit without decoding it.
type ingestInput struct {
	log       *slog.Logger
	maxTokens int
	// maxBatch is the store's batch limit. A longer list, in a request of the shape above, is
	// counted but not decoded, whatever its customers, and its field answers the store's
	// refusal of a batch over the limit (decodedCustomers); with or without direct.
	maxBatch int
	// direct decodes the customers here; without it gqlgen decodes them.
	direct bool
}

// handler decodes the customers of an ingestCustomers request for the resolver before next,
// the transport, reads the body. The body has been through withValidText.
func (in ingestInput) handler(next http.Handler) http.Handler {
	if in.log == nil {
		in.log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := r.Body.(*bodyBytes)
		if r.Method != http.MethodPost || !ok {
			next.ServeHTTP(w, r)
			return
		}
		if rest, d := decodeIngestBody(b.data, in.maxTokens, in.maxBatch, in.direct); d != nil {
			decoded(r.Context())
			msg := "ingest input decoded"
			if d.count > d.max {
				msg = "ingest input over the batch limit"
			}
			in.log.LogAttrs(r.Context(), slog.LevelDebug, msg,
				slog.String("request_id", RequestIDFrom(r.Context())), slog.Int("customers", d.count))
			r = r.WithContext(context.WithValue(r.Context(), decodedIngestKey{}, d))
			r.Body, r.ContentLength = newBodyBytes(rest), int64(len(rest))
		}
		next.ServeHTTP(w, r)
	})
}

// largeBody is the largest body decoded without a turn of the decodes in flight, unless it is
// an ingest request.
const largeBody = 64 << 10

// decodesInFlight bounds, with l, the request bodies being decoded into Go values at once: every
// ingestCustomers request, and any other body over largeBody, whose variables the transport
// decodes whole into maps, several times their size. A request that cannot have its
// turn in time is refused with 503 SERVICE_UNAVAILABLE and Retry-After. The turn of an ingest
// request ends once its customers are decoded (by ingestInput, or by gqlgen when its resolver
// runs: decoded), any other's with the request. The body has been through withValidText.
func decodesInFlight(l *inflight.Limit, next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := r.Body.(*bodyBytes)
		if r.Method != http.MethodPost || !ok || len(b.data) <= largeBody && !bytes.Contains(b.data, []byte("ingestCustomers")) {
			next.ServeHTTP(w, r)
			return
		}
		if l.Acquire(r.Context(), 1) != nil {
			RequestInfoFrom(r.Context()).AddCode(string(models.ErrServiceUnavailable))
			w.Header().Set("Retry-After", l.RetryAfter())
			writeRequestError(w, responseContentType(r), http.StatusServiceUnavailable, &graphql.Response{Errors: gqlerror.List{{
				Message:    "the server is decoding as many large or ingest requests as it decodes at once; retry after the seconds Retry-After gives",
				Extensions: map[string]any{"code": string(models.ErrServiceUnavailable)},
			}}})
			return
		}
		done := sync.OnceFunc(func() { l.Release(1) })
		defer done()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), decodingKey{}, done)))
	})
}

// decodingKey holds the function that ends a request's turn of the decodes in flight.
type decodingKey struct{}

// decoded ends the turn of ctx's request, if it has one, once its ingest input is decoded.
func decoded(ctx context.Context) {
	if done, ok := ctx.Value(decodingKey{}).(func()); ok {
		done()
	}
}

// bodyBytes is a request body held in memory (by withValidText), which a handler may take
// without copying it.
type bodyBytes struct {
	bytes.Reader
	data []byte
}

func newBodyBytes(b []byte) *bodyBytes {
	body := &bodyBytes{data: b}
	body.Reset(b)
	return body
}

func (*bodyBytes) Close() error { return nil }

// Bytes is the whole body (see heldBody).
func (b *bodyBytes) Bytes() []byte { return b.data }

// heldBody is the whole of a body, without copying one held in memory already (read by the
// HTTP edge, or by withValidText), which is never modified.
func heldBody(body io.Reader) ([]byte, error) {
	if held, ok := body.(interface{ Bytes() []byte }); ok {
		return held.Bytes(), nil
	}
	return io.ReadAll(body)
}

// decodedCustomers returns the customers decoded for the field of ctx when its customers
// argument is the decoded variable, else customers as gqlgen unmarshalled them. A decoded list
// over the batch limit comes back as the refusal the store would have answered, without its
// customers.
func decodedCustomers(ctx context.Context, customers []*models.CustomerInput) ([]*models.CustomerInput, *batchRefusal, error) {
	decoded(ctx) // the arguments are unmarshalled by now
	d, _ := ctx.Value(decodedIngestKey{}).(*decodedIngest)
	if d == nil {
		return customers, nil, nil
	}
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return customers, nil, nil
	}
	if op := graphql.GetOperationContext(ctx); op.RawQuery != d.query || op.OperationName != d.operationName {
		// A hook rewrote the document after the variable was found in it.
		return nil, nil, &models.Error{Code: models.ErrInternal, Message: "ingest input decoded for another operation"}
	}
	arg := fc.Field.Arguments.ForName("customers")
	if arg == nil || arg.Value == nil || arg.Value.Kind != ast.Variable || arg.Value.Raw != d.variable {
		return customers, nil, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.taken {
		// The document names the variable once, so one field at most reads it.
		return nil, nil, &models.Error{Code: models.ErrInternal, Message: "ingest input read twice"}
	}
	d.taken = true
	if d.count > d.max {
		return nil, &batchRefusal{max: d.max, count: d.count}, nil
	}
	return d.customers, nil, nil
}

// batchRefusal is a batch of count customers, over the limit of max, refused before the store
// saw it.
type batchRefusal struct{ max, count int }

// payload is the store's answer to the batch (db.Store.Ingest), which report is told of as the
// store tells its observer.
func (b *batchRefusal) payload(ctx context.Context, opt db.IngestOptions, report func(context.Context, db.IngestReport)) *models.IngestCustomersPayload {
	sum := models.IngestSummary{Customers: &models.WriteCounts{}, Accounts: &models.WriteCounts{}, Cards: &models.WriteCounts{}, DryRun: opt.DryRun}
	if report != nil {
		report(ctx, db.IngestReport{Summary: sum, Rejected: b.count, DryRun: opt.DryRun})
	}
	return &models.IngestCustomersPayload{Summary: &sum, Customers: []*models.Customer{}, UserErrors: []*models.UserError{{
		Path: "customers", Code: models.UserErrorCodeLimitExceeded,
		Message: fmt.Sprintf("a batch may hold at most %d customers, got %d", b.max, b.count),
	}}}
}

// decodeIngestBody returns the body with the customers variable's list replaced by [] and the
// decoded customers, or nil when the request is not of the shape described above. Without
// decode, it does so only for a list over the batch limit, and decodes none of it.
func decodeIngestBody(body []byte, maxTokens, maxBatch int, decode bool) ([]byte, *decodedIngest) {
	if !bytes.Contains(body, []byte("ingestCustomers")) {
		return nil, nil
	}
	req, ok := scanRequest(body)
	if !ok || !req.hasQuery || req.vars.end == 0 {
		return nil, nil
	}
	variable := ingestVariable(req.query, req.operationName, maxTokens)
	if variable == "" {
		return nil, nil
	}
	start, end, ok := memberSpan(body[req.vars.start:req.vars.end], variable)
	if !ok {
		return nil, nil
	}
	start, end = start+req.vars.start, end+req.vars.start
	customers, count, ok := decodeCustomers(body[start:end], maxBatch, decode)
	if !ok {
		return nil, nil
	}
	rest := make([]byte, 0, len(body)-(end-start)+2)
	rest = append(append(append(rest, body[:start]...), "[]"...), body[end:]...)
	return rest, &decodedIngest{query: markDocument(req.query), operationName: req.operationName, variable: variable,
		customers: customers, count: count, max: maxBatch}
}

// span is a value's offsets in the body; end is 0 when there is none.
type span struct{ start, end int }

// scannedRequest is what the request object holds, as the transport will read it.
type scannedRequest struct {
	query, operationName string
	hasQuery             bool
	vars                 span // the variables object
}

// requestMembers are the keys the transport reads (requestParams), as they must be written.
var requestMembers = map[string]bool{"query": true, "operationName": true, "variables": true, "extensions": true, "documentId": true}

// scanRequest reads the request object: every key one of requestMembers, once and without
// escapes, query a string, operationName a string or null, variables an object or null, and
// nothing after the object. ok is false for anything else, valid JSON or not.
func scanRequest(body []byte) (req scannedRequest, ok bool) {
	dec := jsontext.NewDecoder(bytes.NewBuffer(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(false))
	if dec.PeekKind() != '{' {
		return req, false
	}
	if _, err := dec.ReadToken(); err != nil {
		return req, false
	}
	seen := map[string]bool{}
	for dec.PeekKind() == '"' {
		key, err := dec.ReadValue()
		if err != nil || bytes.IndexByte(key, '\\') >= 0 {
			return req, false
		}
		name := string(key[1 : len(key)-1])
		if !requestMembers[name] || seen[name] {
			return req, false
		}
		seen[name] = true
		kind := dec.PeekKind()
		switch {
		case name == "query" && kind == '"', name == "operationName" && kind == '"':
			tok, err := dec.ReadToken()
			if err != nil {
				return req, false
			}
			if name == "query" {
				req.query, req.hasQuery = tok.String(), true
			} else {
				req.operationName = tok.String()
			}
		case name == "variables" && kind == '{':
			raw, err := dec.ReadValue()
			if err != nil {
				return req, false
			}
			end := int(dec.InputOffset())
			req.vars = span{end - len(raw), end}
		case name == "operationName" && kind == 'n', name == "variables" && kind == 'n',
			name == "extensions", name == "documentId":
			if err := dec.SkipValue(); err != nil {
				return req, false
			}
		default:
			return req, false // a query that is not a string, ...: the transport answers it
		}
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '}' {
		return req, false
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return req, false
	}
	return req, true
}

// memberSpan finds the member name of a JSON object, written once, whose value is a list, and
// returns the offsets of that list in obj.
func memberSpan(obj []byte, name string) (start, end int, ok bool) {
	dec := jsontext.NewDecoder(bytes.NewBuffer(obj), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(false))
	if _, err := dec.ReadToken(); err != nil { // {
		return 0, 0, false
	}
	found := false
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return 0, 0, false
		}
		if tok.String() != name {
			if err := dec.SkipValue(); err != nil {
				return 0, 0, false
			}
			continue
		}
		if found || dec.PeekKind() != '[' {
			return 0, 0, false // twice, or not a list
		}
		found = true
		raw, err := dec.ReadValue()
		if err != nil {
			return 0, 0, false
		}
		end = int(dec.InputOffset())
		start = end - len(raw)
	}
	return start, end, found
}

// decodeCustomers decodes a list of customers and counts them. It reports false when any is
// not of the plain shape, or without decode, unless the list holds more than maxBatch: then it
// decodes none beyond maxBatch, and only counts the rest, whatever they are, for the batch is
// refused.
func decodeCustomers(list []byte, maxBatch int, decode bool) (customers []*models.CustomerInput, count int, ok bool) {
	dec := jsontext.NewDecoder(bytes.NewBuffer(list), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(false))
	if _, err := dec.ReadToken(); err != nil { // [
		return nil, 0, false
	}
	d := ingestDecoders.Get().(*models.InputDecoder)
	defer ingestDecoders.Put(d)
	customers, plain := []*models.CustomerInput{}, decode
	for kind := dec.PeekKind(); kind != ']'; kind = dec.PeekKind() {
		count++
		if !plain || count > maxBatch || kind != '{' {
			customers, plain = nil, false // the list is refused, or decoded by gqlgen
			if err := dec.SkipValue(); err != nil {
				return nil, 0, false
			}
			continue
		}
		raw, err := dec.ReadValue()
		if err != nil {
			return nil, 0, false
		}
		c, ok := d.Decode(raw)
		if !ok {
			customers, plain = nil, false
			continue
		}
		customers = append(customers, c)
	}
	if _, err := dec.ReadToken(); err != nil { // ]
		return nil, 0, false
	}
	return customers, count, plain || count > maxBatch
}

// ingestVariable is the variable of the operation the transport will run that may be decoded
// directly (see above), or "".
func ingestVariable(query, operationName string, maxTokens int) string {
	query = markDocument(query) // as validDocument does before gqlgen parses it
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, maxTokens)
	if err != nil {
		return ""
	}
	op := doc.Operations.ForName(operationName)
	if op == nil || op.Operation != ast.Mutation {
		return ""
	}
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok || f.Name != "ingestCustomers" {
			continue
		}
		arg := f.Arguments.ForName("customers")
		if arg == nil || arg.Value == nil || arg.Value.Kind != ast.Variable {
			continue
		}
		def := op.VariableDefinitions.ForName(arg.Value.Raw)
		if def == nil || def.DefaultValue != nil || len(def.Directives) > 0 || !customersType(def.Type) {
			continue
		}
		if variableMentions(query, def.Variable) == 2 { // its definition and this argument
			return def.Variable
		}
	}
	return ""
}

// customersType tells whether t is [CustomerInput!]!, the type of the argument.
func customersType(t *ast.Type) bool {
	return t != nil && t.NonNull && t.Elem != nil && t.Elem.NamedType == "CustomerInput" && t.Elem.NonNull && t.Elem.Elem == nil
}

// variableMentions counts the $name tokens of a document: definitions and uses, in every
// operation and fragment.
func variableMentions(query, name string) int {
	lex := lexer.New(&ast.Source{Input: query})
	n, dollar := 0, false
	for {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return n
		}
		if dollar && tok.Kind == lexer.Name && tok.Value == name {
			n++
		}
		dollar = tok.Kind == lexer.Dollar
	}
}
