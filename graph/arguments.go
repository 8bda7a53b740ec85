package graph

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// argumentCheck refuses, before anything runs, an operation with an argument the store could
// not take: text that is not valid (models.TextProblem: NUL, invalid UTF-8, unpaired
// surrogates) anywhere in an argument, or a list longer than its maximum (maxValues for the
// lists of filters, maxIDs for nodes(ids)). The answer is BAD_USER_INPUT naming the field and
// the argument. The input of ingestCustomers and the patches of the update mutations are left
// to the validator, which reports their problems as user errors at their paths.
//
// Every field of the operation is visited once and every fragment once, whatever the number
// of its spreads (its arguments do not depend on where it is spread), and a list's length is
// checked before its items: the work is linear in the document and its variables.
type argumentCheck struct{ maxValues, maxIDs int }

func (argumentCheck) ExtensionName() string                   { return "ArgumentCheck" }
func (argumentCheck) Validate(graphql.ExecutableSchema) error { return nil }

func (c argumentCheck) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	w := &argumentWalk{argumentCheck: c, vars: rc.Variables, doc: rc.Doc, fragments: map[string]bool{}}
	return w.selections(rc.Operation.SelectionSet)
}

// validatedArguments are the arguments whose problems are user errors (REFERENCE.md, "Problems in the input": rules beyond
// types are UserErrors), keyed by field.
var validatedArguments = map[string][]string{
	"Mutation.ingestCustomers": {"customers"},
	"Mutation.updateCustomer":  {"patch"},
	"Mutation.updateAccount":   {"patch"},
	"Mutation.updateCard":      {"patch"},
}

type argumentWalk struct {
	argumentCheck
	vars      map[string]any
	doc       *ast.QueryDocument
	fragments map[string]bool // visited
}

func (w *argumentWalk) selections(set ast.SelectionSet) *gqlerror.Error {
	for _, sel := range set {
		var err *gqlerror.Error
		switch s := sel.(type) {
		case *ast.Field:
			if err = w.arguments(s); err == nil {
				err = w.selections(s.SelectionSet)
			}
		case *ast.InlineFragment:
			err = w.selections(s.SelectionSet)
		case *ast.FragmentSpread:
			if !w.fragments[s.Name] {
				w.fragments[s.Name] = true
				if f := w.doc.Fragments.ForName(s.Name); f != nil {
					err = w.selections(f.SelectionSet)
				}
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *argumentWalk) arguments(f *ast.Field) *gqlerror.Error {
	if len(f.Arguments) == 0 {
		return nil
	}
	field := f.Name
	if f.ObjectDefinition != nil {
		field = f.ObjectDefinition.Name + "." + f.Name
	}
	for _, arg := range f.Arguments {
		if slices.Contains(validatedArguments[field], arg.Name) {
			continue
		}
		v, err := arg.Value.Value(w.vars)
		if err != nil {
			continue // refused by validation already
		}
		max := w.maxValues
		if field == "Query.nodes" {
			max = w.maxIDs
		}
		problem := checkArgumentValue(arg.Name, v, max)
		if problem == "" && isCardFilter(f, arg) {
			problem = cardFilterProblem(arg.Name, v)
		}
		if problem != "" {
			return &gqlerror.Error{
				Message:    fmt.Sprintf("argument %s of %s: %s", arg.Name, f.Name, problem),
				Locations:  []gqlerror.Location{{Line: arg.Position.Line, Column: arg.Position.Column}},
				Extensions: map[string]any{"code": string(models.ErrBadUserInput)},
			}
		}
	}
	return nil
}

// checkArgumentValue describes the first problem of a coerced argument value, naming its path
// within the argument, or returns "".
func checkArgumentValue(path string, v any, max int) string {
	switch x := v.(type) {
	case string:
		if p := models.TextProblem(x); p != "" {
			return path + " " + p
		}
	case []any:
		if len(x) > max {
			return fmt.Sprintf("%s may hold at most %d values, got %d", path, max, len(x))
		}
		for i, item := range x {
			if p := checkArgumentValue(path+"["+strconv.Itoa(i)+"]", item, max); p != "" {
				return p
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys) // the same problem first every time
		for _, k := range keys {
			if p := checkArgumentValue(path+"."+k, x[k], max); p != "" {
				return p
			}
		}
	}
	return ""
}

// isCardFilter reports whether arg of f is a CardFilter.
func isCardFilter(f *ast.Field, arg *ast.Argument) bool {
	if f.Definition == nil {
		return false
	}
	def := f.Definition.Arguments.ForName(arg.Name)
	return def != nil && def.Type.NamedType == "CardFilter"
}

// cardFilterProblem describes the first of a CardFilter's values that no card could have (a
// last4 or an IIN not of their shape, see models.Last4Problem), or returns "": such a filter
// would answer an empty list as if the card did not exist.
func cardFilterProblem(path string, v any) string {
	f, _ := v.(map[string]any)
	for _, c := range []struct {
		field   string
		problem func(string) string
	}{{"last4", models.Last4Problem}, {"iin", models.IINProblem}} {
		if s, ok := f[c.field].(string); ok {
			if p := c.problem(s); p != "" {
				return path + "." + c.field + " " + p
			}
		}
	}
	return ""
}

// validDocument rewrites the unpaired surrogate escapes of a document's string literals into
// the marker before the document is parsed (see markDocument).
type validDocument struct{}

func (validDocument) ExtensionName() string                   { return "ValidDocumentText" }
func (validDocument) Validate(graphql.ExecutableSchema) error { return nil }

func (validDocument) MutateOperationParameters(_ context.Context, p *graphql.RawParams) *gqlerror.Error {
	p.Query = markDocument(p.Query)
	return nil
}
