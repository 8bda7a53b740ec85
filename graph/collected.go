package graph

import (
	"sync"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// The direct executor collects the fields of each selection set it writes (which fields,
// merged by response key, fragments expanded, @skip and @include applied). A parsed document
// is shared by every request that sends its text, and where none of its directives reads a
// variable the collected fields are the same for all of them: they are kept with the
// document (for the selection sets that are the document's own; a field merged from several
// nodes gets a selection set of its own, collected per request as before).

// docFields is what is known of one document's collected fields.
type docFields struct {
	// shared is false when a directive reads a variable: then nothing is kept.
	shared bool
	// own holds the first selection of each of the document's selection sets.
	own map[*ast.Selection]bool

	mu     sync.Mutex
	fields map[collectedKey][]graphql.CollectedField
}

// collectedKey is a selection set of the document, collected on an object of the types
// (one of the package's implementor lists, told apart by its first element).
type collectedKey struct {
	first *ast.Selection
	n     int
	types *string
}

var collectedFields, _ = lru.New[*ast.QueryDocument, *docFields](costCacheSize)

// fieldsOf returns what is known of doc's collected fields, learning the document first.
func fieldsOf(doc *ast.QueryDocument) *docFields {
	if d, ok := collectedFields.Get(doc); ok {
		return d
	}
	d := &docFields{shared: true, own: map[*ast.Selection]bool{}, fields: map[collectedKey][]graphql.CollectedField{}}
	for _, op := range doc.Operations {
		d.learn(op.Directives, op.SelectionSet)
		for _, v := range op.VariableDefinitions {
			d.learn(v.Directives, nil)
		}
	}
	for _, f := range doc.Fragments {
		d.learn(f.Directives, f.SelectionSet)
	}
	collectedFields.Add(doc, d)
	return d
}

func (d *docFields) learn(dirs ast.DirectiveList, set ast.SelectionSet) {
	for _, dir := range dirs {
		for _, a := range dir.Arguments {
			if readsVariable(a.Value) {
				d.shared = false
			}
		}
	}
	if len(set) > 0 {
		d.own[&set[0]] = true
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			d.learn(s.Directives, s.SelectionSet)
		case *ast.InlineFragment:
			d.learn(s.Directives, s.SelectionSet)
		case *ast.FragmentSpread:
			d.learn(s.Directives, nil)
		}
	}
}

func readsVariable(v *ast.Value) bool {
	if v == nil {
		return false
	}
	if v.Kind == ast.Variable {
		return true
	}
	for _, c := range v.Children {
		if readsVariable(c.Value) {
			return true
		}
	}
	return false
}

// collected returns the fields of sel collected on types, kept with the document when they
// are the same for every request.
func collected(op *graphql.OperationContext, sel ast.SelectionSet, types []string) []graphql.CollectedField {
	if len(sel) == 0 || len(types) == 0 {
		return graphql.CollectFields(op, sel, types)
	}
	d := fieldsOf(op.Doc)
	if !d.shared || !d.own[&sel[0]] {
		return graphql.CollectFields(op, sel, types)
	}
	k := collectedKey{first: &sel[0], n: len(sel), types: &types[0]}
	d.mu.Lock()
	fields, ok := d.fields[k]
	d.mu.Unlock()
	if ok {
		return fields
	}
	fields = graphql.CollectFields(op, sel, types)
	d.mu.Lock()
	d.fields[k] = fields
	d.mu.Unlock()
	return fields
}

// ownSelections is f's selection as the document holds it, when f was collected from one
// field node (gqlgen gives every collected field a copy of its selection; a field merged from
// several nodes has theirs together, and keeps its copy).
func ownSelections(f graphql.CollectedField) ast.SelectionSet {
	if f.Field == nil || len(f.Selections) != len(f.Field.SelectionSet) {
		return f.Selections
	}
	for i, s := range f.Selections {
		if s != f.Field.SelectionSet[i] {
			return f.Selections
		}
	}
	return f.Field.SelectionSet
}
