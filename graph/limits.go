package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// Limits bound what one request may cost (REFERENCE.md, "Limits of a request"). Zero values take the defaults.
type Limits struct {
	// MaxTokens bounds the query document's lexical tokens (default 10,000), so that parsing
	// and validating any accepted document stays cheap.
	MaxTokens int
	// MaxDepth bounds the nesting of selections, fragments expanded (default 12).
	MaxDepth int
	// MaxComplexity bounds the estimated cost (default 20,000): a connection costs its page
	// size times its selection, nodes(ids) its number of ids times its selection, an
	// unpaginated nested list (a customer's accounts) ListEstimate times its selection, any
	// other field 1 plus its selection.
	MaxComplexity int
	// defaultPage and maxPage are the store's connection page sizes (db.Store.PageSizes), so
	// that the price of a page is the page the store will return.
	defaultPage, maxPage int
	// MaxFilterValues bounds every list in an argument, such as the values of a filter field
	// (default 1,000); nodes(ids) takes at most the maximum page size. A longer list is
	// BAD_USER_INPUT before anything runs.
	MaxFilterValues int
	// ListEstimate is the assumed length of an unpaginated nested list such as a customer's
	// accounts (default 1: such lists are short, and the nested query a dashboard sends for a
	// full page of 500 customers with accounts, holders and cards must stay within the
	// default limit).
	ListEstimate int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxTokens, 10000)
	def(&l.MaxDepth, 12)
	def(&l.MaxComplexity, 20000)
	def(&l.MaxFilterValues, 1000)
	def(&l.ListEstimate, 1)
	return l
}

// page is the page size a connection argument pair asks for, as the store will apply it
// (out-of-range values are refused there; here they cost the maximum).
func (l Limits) page(first, last *int) int {
	n := l.defaultPage
	if first != nil {
		n = *first
	} else if last != nil {
		n = *last
	}
	if n < 0 || n > l.maxPage {
		n = l.maxPage
	}
	return max(n, 1)
}

// complexity prices connections and lists by how many objects they can return.
func complexity(l Limits) ComplexityRoot {
	var c ComplexityRoot
	list := func(child int) int { return 1 + l.ListEstimate*child }
	q := &c.Query
	q.Customers = func(child int, _ *models.CustomerFilter, _ *models.CustomerOrder, first *int, _ *string, last *int, _ *string) int {
		return 1 + l.page(first, last)*child
	}
	q.Accounts = func(child int, _ *models.AccountFilter, first *int, _ *string, last *int, _ *string) int {
		return 1 + l.page(first, last)*child
	}
	q.Cards = func(child int, _ *models.CardFilter, first *int, _ *string, last *int, _ *string) int {
		return 1 + l.page(first, last)*child
	}
	q.Nodes = func(child int, ids []string) int { return 1 + max(len(ids), 1)*child }
	c.Customer.Children = func(child int, first *int, _ *string) int { return 1 + l.page(first, nil)*child }
	c.Customer.Accounts = func(child int, _ *models.AccountFilter) int { return list(child) }
	c.Customer.Cards = func(child int, _ *models.CardFilter) int { return list(child) }
	c.Account.Cards = func(child int, _ *models.CardFilter) int { return list(child) }
	c.Account.Holders = list
	c.IngestCustomersPayload.Customers = func(child int) int { return 1 + l.maxPage*child }
	return c
}

// shapeLimit refuses operations nested deeper than maxDepth (fragments count at the depth of
// their spread) and, before the complexity is computed, operations whose fragments expand to
// more fields than maxFields: every field costs at least 1, so such an operation exceeds the
// complexity limit anyway, and measuring it here keeps a document of fragments that spread
// each other (2^n fields from n fragments) from making the complexity walk exponential.
//
// Introspection (__schema, __type) is measured by the shape it can legitimately take, so that
// the standard introspection queries of graphql-js and GraphiQL pass at the default limits
// while deeper or larger introspection documents are refused:
//   - the ofType chain of a type reference is its only deep part: ofType adds no depth, but
//     may be nested at most maxTypeRefDepth levels (graphql-js's typeDepth, 9);
//   - along any path a type's members (fields, inputFields, enumValues, interfaces,
//     possibleTypes) are listed once: of the types they refer to, a document selects only
//     kind, name, ofType and other scalars, never their members again, so an answer grows
//     with the schema, never with a power of it;
//   - introspection may select at most maxIntrospectionFields fields, fragments expanded
//     (graphql-js's standard query selects 230): gqlgen's complexity leaves __schema out, and
//     this bounds how many whole-schema answers one document may ask for, whatever the size
//     of the schema.
type shapeLimit struct {
	maxDepth, maxFields int
	// seen keeps each operation's shape: it depends on the document alone (costs.go).
	seen *lru.Cache[*ast.OperationDefinition, shape]
}

func newShapeLimit(maxDepth, maxFields int) shapeLimit {
	seen, _ := lru.New[*ast.OperationDefinition, shape](costCacheSize)
	return shapeLimit{maxDepth: maxDepth, maxFields: maxFields, seen: seen}
}

const (
	// maxTypeRefDepth is how deep ofType may be nested: graphql-js's getIntrospectionQuery
	// nests it 9 levels (its default typeDepth), and GraphiQL sends that query.
	maxTypeRefDepth = 9
	// maxIntrospectionFields bounds the introspection fields of one operation.
	maxIntrospectionFields = 1000
)

func (shapeLimit) ExtensionName() string                   { return "ShapeLimit" }
func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l shapeLimit) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	sh, ok := l.seen.Get(rc.Operation)
	if !ok {
		m := &shapeMeter{doc: rc.Doc, depthCap: l.maxDepth + 1, fieldCap: max(l.maxFields, maxIntrospectionFields) + 1, fragments: map[string]*shape{}}
		sh = m.measure(rc.Operation.SelectionSet)
		l.seen.Add(rc.Operation, sh)
	}
	depthError := func(msg string) *gqlerror.Error {
		return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}}
	}
	complexityError := func(msg string) *gqlerror.Error {
		return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": "COMPLEXITY_LIMIT_EXCEEDED"}}
	}
	switch {
	case sh.depth > l.maxDepth:
		return depthError(fmt.Sprintf("the operation is nested more than %d levels deep", l.maxDepth))
	case sh.typeRefs > maxTypeRefDepth:
		return depthError(fmt.Sprintf("introspection nests ofType more than %d levels deep", maxTypeRefDepth))
	case sh.members > 1:
		return depthError("introspection lists the members of a type (fields, inputFields, enumValues, interfaces, possibleTypes) " +
			"at most once along a path: of the types they refer to, select kind, name and ofType")
	case sh.fields > l.maxFields:
		return complexityError(fmt.Sprintf("the operation selects more than %d fields once its fragments are expanded, which exceeds the complexity limit of %d", l.maxFields, l.maxFields))
	case sh.introspection > maxIntrospectionFields:
		return complexityError(fmt.Sprintf("the operation selects more than %d introspection fields once its fragments are expanded "+
			"(graphql-js's standard introspection query selects 230)", maxIntrospectionFields))
	}
	return nil
}

// shape is what a selection set is measured by, each part capped: its depth (ofType links
// not counted), its expanded field count and how many of those are introspection fields,
// and, along its deepest path, how many ofType links and type member lists it nests.
type shape struct{ depth, fields, introspection, typeRefs, members int }

// shapeMeter measures selection sets. A fragment's shape does not depend on where it is
// spread, so each is measured once: the cost is linear in the document's size.
type shapeMeter struct {
	doc                *ast.QueryDocument
	depthCap, fieldCap int
	fragments          map[string]*shape // nil while being measured
}

func (m *shapeMeter) measure(set ast.SelectionSet) shape {
	var out shape
	for _, sel := range set {
		var sh shape
		switch s := sel.(type) {
		case *ast.Field:
			sh = m.field(s)
		case *ast.InlineFragment:
			sh = m.measure(s.SelectionSet)
		case *ast.FragmentSpread:
			sh = m.fragment(s.Name)
		}
		out.depth = min(max(out.depth, sh.depth), m.depthCap)
		out.fields = min(out.fields+sh.fields, m.fieldCap)
		out.introspection = min(out.introspection+sh.introspection, m.fieldCap)
		out.typeRefs = min(max(out.typeRefs, sh.typeRefs), maxTypeRefDepth+1)
		out.members = min(max(out.members, sh.members), 2)
	}
	return out
}

// field measures one field with its selection. The document has been validated, so every
// field knows the type it is selected on.
func (m *shapeMeter) field(f *ast.Field) shape {
	child := m.measure(f.SelectionSet)
	sh := shape{depth: 1 + child.depth, fields: 1 + child.fields, introspection: child.introspection, typeRefs: child.typeRefs, members: child.members}
	if f.ObjectDefinition == nil {
		return sh
	}
	if strings.HasPrefix(f.ObjectDefinition.Name, "__") || f.Name == "__schema" || f.Name == "__type" {
		sh.introspection++
	}
	switch f.ObjectDefinition.Name + "." + f.Name {
	case "__Type.ofType":
		sh.depth = child.depth
		sh.typeRefs = child.typeRefs + 1
	case "__Type.fields", "__Type.inputFields", "__Type.enumValues", "__Type.interfaces", "__Type.possibleTypes":
		sh.members = child.members + 1
	}
	return sh
}

func (m *shapeMeter) fragment(name string) shape {
	if sh, ok := m.fragments[name]; ok {
		if sh == nil {
			return shape{} // a cycle, refused by validation before this runs
		}
		return *sh
	}
	f := m.doc.Fragments.ForName(name)
	if f == nil {
		return shape{}
	}
	m.fragments[name] = nil
	sh := m.measure(f.SelectionSet)
	m.fragments[name] = &sh
	return sh
}
