package graph

import (
	"context"
	"maps"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// The validator checks the variables against the schema's types before anything runs, and
// refuses an unknown enum value or a list where an object belongs as a request error. A scalar
// of the schema whose Go model decides what it takes (DateTime, IntOrString, and Int, which is
// bound to models.StrictInt) is not checked there: a value it refuses would otherwise surface
// only when the field's arguments are unmarshalled, as a field error with data: null. The
// scalars' own unmarshallers are run here instead, at the same stage as the validator:
//
//   - on the variables (scalarVariables), after the validator coerced them, so a value a scalar
//     refuses is a request error exactly like a bad enum value: GRAPHQL_VALIDATION_FAILED, no
//     data, 200 or 400 by the Accept header (requestErrorStatus), the variable and the path
//     within it in extensions (variableLocation);
//   - on the literals of the document (scalarLiterals), as a rule of the document's
//     validation, so a literal a scalar refuses is a validation error at its location, and a
//     document that passed is cached as valid.

// scalarCoercions are the scalars the validator lets through whatever their value, with their
// models' unmarshallers.
var scalarCoercions = map[string]func(any) error{
	"DateTime":    func(v any) error { _, err := models.UnmarshalDateTime(v); return err },
	"IntOrString": func(v any) error { _, err := models.UnmarshalIntOrString(v); return err },
	"Int":         func(v any) error { _, err := models.UnmarshalStrictInt(v); return err },
}

// scalarVariables coerces the custom scalars of the variables (see above). A variable whose
// type cannot hold one, such as a Boolean or IngestOptions, is not walked; nor are the
// customers of an ingest request decoded directly (ingest_input.go), which the transport
// receives as [].
type scalarVariables struct {
	// holds tells, by type name, whether a value of the type can hold a scalar of
	// scalarCoercions.
	holds map[string]bool
	// fields are, by input type name, the fields of the type whose type can hold one.
	fields map[string][]*ast.FieldDefinition
}

func (*scalarVariables) ExtensionName() string { return "ScalarVariables" }

func (s *scalarVariables) Validate(es graphql.ExecutableSchema) error {
	schema := es.Schema()
	s.holds = scalarHolders(schema)
	s.fields = map[string][]*ast.FieldDefinition{}
	for name, def := range schema.Types {
		if def.Kind != ast.InputObject || !s.holds[name] {
			continue
		}
		for _, f := range def.Fields {
			if s.holds[f.Type.Name()] {
				s.fields[name] = append(s.fields[name], f)
			}
		}
	}
	return nil
}

func (s *scalarVariables) MutateOperationContext(_ context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	if rc.Operation == nil {
		return nil
	}
	for _, def := range rc.Operation.VariableDefinitions {
		if !s.holds[def.Type.Name()] {
			continue
		}
		if v, ok := rc.Variables[def.Variable]; ok && v != nil {
			if at, err := s.refused(def.Type, v); err != nil {
				e := gqlerror.ErrorPathf(append(ast.Path{ast.PathName("variable"), ast.PathName(def.Variable)}, at...), "%s", err)
				errcode.Set(e, errcode.ValidationFailed)
				return e
			}
		}
	}
	return nil
}

// refused returns the first value within v, of type typ, that its scalar refuses: its path
// within v and the scalar's error, or a nil error. The validator has checked the shape of v
// already. The path is built only for a refused value, so a walk that finds nothing
// allocates nothing.
func (s *scalarVariables) refused(typ *ast.Type, v any) (ast.Path, error) {
	if typ.Elem != nil {
		// A list from JSON is a []any; a single value sent for a list, the validator has made
		// a list of one of its own type ([]map[string]any, []json.Number, ...).
		list, ok := v.([]any)
		if !ok {
			rv := reflect.ValueOf(v)
			if rv.Kind() != reflect.Slice {
				return s.refused(typ.Elem, v)
			}
			list = make([]any, rv.Len())
			for i := range list {
				list[i] = rv.Index(i).Interface()
			}
		}
		for i, item := range list {
			if item == nil {
				continue
			}
			if at, err := s.refused(typ.Elem, item); err != nil {
				return append(ast.Path{ast.PathIndex(i)}, at...), err
			}
		}
		return nil, nil
	}
	if coerce := scalarCoercions[typ.NamedType]; coerce != nil {
		return nil, coerce(v)
	}
	fields, _ := v.(map[string]any)
	for _, f := range s.fields[typ.NamedType] {
		if fv := fields[f.Name]; fv != nil {
			if at, err := s.refused(f.Type, fv); err != nil {
				return append(ast.Path{ast.PathName(f.Name)}, at...), err
			}
		}
	}
	return nil, nil
}

// scalarHolders tells, for every type of schema, whether a value of it can hold a scalar of
// scalarCoercions.
func scalarHolders(schema *ast.Schema) map[string]bool {
	holds := map[string]bool{}
	var visit func(name string, seen map[string]bool) bool
	visit = func(name string, seen map[string]bool) bool {
		if h, ok := holds[name]; ok {
			return h
		}
		def := schema.Types[name]
		if def == nil || seen[name] {
			return false
		}
		seen[name] = true
		h := false
		switch def.Kind {
		case ast.Scalar:
			h = scalarCoercions[name] != nil
		case ast.InputObject:
			for _, f := range def.Fields {
				h = visit(f.Type.Name(), seen) || h
			}
		}
		return h
	}
	for name := range schema.Types {
		holds[name] = visit(name, map[string]bool{})
	}
	return holds
}

// variableLocation moves the location of a variable that did not coerce, which the validator
// and scalarVariables give as a path ["variable", name, ...], out of the error's path (which
// must be a response path) into its extensions: the variable's name as "variable" and the path
// within its value as "inputPath" (keys and list indexes, [] for the variable itself). The
// message keeps naming it (variable.patch.enrollmentStartDate: ...).
func variableLocation(e *gqlerror.Error) {
	if e.Extensions["code"] != errcode.ValidationFailed || len(e.Path) < 2 || e.Path[0] != ast.PathName("variable") {
		return
	}
	name, ok := e.Path[1].(ast.PathName)
	if !ok {
		return
	}
	inputPath := make([]any, 0, len(e.Path)-2)
	for _, p := range e.Path[2:] {
		inputPath = append(inputPath, p)
	}
	e.Extensions = maps.Clone(e.Extensions)
	e.Extensions["variable"] = string(name)
	e.Extensions["inputPath"] = inputPath
	e.Path = nil
}

// scalarLiterals is the validation rule that runs the unmarshallers of scalarCoercions on the
// literals of a document.
var scalarLiterals = core.Rule{Name: "ScalarLiteralsOfCorrectValue", RuleFunc: func(observers *core.Events, addError core.AddErrFunc) {
	seen := map[*ast.Value]bool{} // a fragment's values are walked at each of its spreads too
	observers.OnValue(func(_ *core.Walker, value *ast.Value) {
		if seen[value] {
			return
		}
		seen[value] = true
		if value.Definition == nil || value.Definition.Kind != ast.Scalar || value.Kind == ast.Variable || value.Kind == ast.NullValue {
			return
		}
		coerce := scalarCoercions[value.Definition.Name]
		if coerce == nil || value.Definition.Name == "Int" { // the validator checks Int literals
			return
		}
		raw, err := value.Value(nil)
		if err == nil {
			err = coerce(raw)
		}
		if err != nil {
			addError(core.Message("Expected value of type %q: %s", value.Definition.Name, err), core.At(value.Position))
		}
	})
}}

// validationRules are the validator's default rules and scalarLiterals.
func validationRules() *rules.Rules {
	r := rules.NewDefaultRules()
	r.AddRule(scalarLiterals.Name, scalarLiterals.RuleFunc)
	return r
}
