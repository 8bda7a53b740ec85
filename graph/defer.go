package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// inlineDefer answers deferred fragments inline. gqlgen declares @defer in every schema, but
// incremental delivery needs a streaming transport (multipart/mixed) that this endpoint does
// not serve: executed as gqlgen would, a deferred fragment came back as a null in a non-null
// field with "hasNext": true in a plain JSON answer, which clients take as final or wait on
// forever. The incremental-delivery proposal lets a server ignore @defer and send the whole
// answer at once, which is what every client reads: this extension takes the directive out of
// the operation before it runs.
//
// The parsed document is shared through the query cache, so the operation is parsed and
// validated again, for the few requests that use @defer, and the copy is changed.
type inlineDefer struct{ schema *ast.Schema }

func (*inlineDefer) ExtensionName() string { return "InlineDefer" }

func (d *inlineDefer) Validate(es graphql.ExecutableSchema) error {
	d.schema = es.Schema()
	return nil
}

func (d *inlineDefer) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil || !strings.Contains(rc.RawQuery, "@defer") {
		return nil
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: rc.RawQuery})
	if err != nil {
		return nil // already parsed once: cannot happen
	}
	if errs := validator.Validate(d.schema, doc); len(errs) > 0 {
		return nil
	}
	op := doc.Operations.ForName(rc.Operation.Name)
	if op == nil {
		return nil
	}
	for _, f := range doc.Fragments {
		withoutDefer(f.SelectionSet)
	}
	withoutDefer(op.SelectionSet)
	rc.Doc, rc.Operation = doc, op
	return nil
}

// withoutDefer removes @defer from the fragments of a selection set, at every depth.
func withoutDefer(set ast.SelectionSet) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			withoutDefer(s.SelectionSet)
		case *ast.InlineFragment:
			s.Directives = dropDefer(s.Directives)
			withoutDefer(s.SelectionSet)
		case *ast.FragmentSpread:
			s.Directives = dropDefer(s.Directives)
		}
	}
}

func dropDefer(ds ast.DirectiveList) ast.DirectiveList {
	out := ds[:0:0]
	for _, d := range ds {
		if d.Name != "defer" {
			out = append(out, d)
		}
	}
	return out
}
