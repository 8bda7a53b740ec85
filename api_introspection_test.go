package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// The standard introspection documents: graphql-js's getIntrospectionQuery with every option
// on (e2e/introspection-query.js prints it), and the one the playground's GraphiQL sends
// (recorded by the browser test, which fails when GraphiQL starts sending another one).
var standardIntrospection = map[string]string{
	"graphql-js": "testdata/introspection-graphql-js.graphql",
	"GraphiQL":   "testdata/introspection-graphiql.graphql",
}

// introspectionResult is the part of an introspection answer the tests look at.
type introspectionResult struct {
	Schema struct {
		QueryType    struct{ Name string }
		MutationType struct{ Name string }
		Types        []struct {
			Kind, Name string
			Fields     []struct {
				Name string
				Args []struct{ Name string }
				Type typeRef
			}
		}
		Directives []struct{ Name string }
	} `json:"__schema"`
}

type typeRef struct {
	Kind, Name string
	OfType     *typeRef
}

func (t typeRef) String() string {
	switch {
	case t.OfType == nil:
		return t.Name
	case t.Kind == "NON_NULL":
		return t.OfType.String() + "!"
	default:
		return "[" + t.OfType.String() + "]"
	}
}

// The standard introspection documents succeed for an admin with every limit at its default,
// and describe our schema.
func TestStandardIntrospectionAtDefaultLimits(t *testing.T) {
	e := newEnv(t, "sqlite", withAuth)
	if c := e.cfg; c.maxDepth != 12 || c.maxComplexity != 20000 || c.maxTokens != 10000 {
		t.Fatalf("limits are not the defaults: depth %d, complexity %d, tokens %d", c.maxDepth, c.maxComplexity, c.maxTokens)
	}
	e.token = token(t, "admin")
	for name, file := range standardIntrospection {
		t.Run(name, func(t *testing.T) {
			doc := string(must(os.ReadFile(file)))
			var out introspectionResult
			e.query(t, doc, nil, &out)
			s := out.Schema
			if s.QueryType.Name != "Query" || s.MutationType.Name != "Mutation" {
				t.Errorf("root types: %q, %q", s.QueryType.Name, s.MutationType.Name)
			}
			var names []string
			fieldTypes := map[string]string{}
			for _, ty := range s.Types {
				names = append(names, ty.Name)
				for _, f := range ty.Fields {
					fieldTypes[ty.Name+"."+f.Name] = f.Type.String()
				}
			}
			for _, want := range []string{"Query", "Mutation", "Customer", "Account", "Card", "Node", "DateTime", "CustomerFilter", "CardNetwork"} {
				if !slices.Contains(names, want) {
					t.Errorf("type %s missing from %v", want, names)
				}
			}
			// The ofType chains decode to the schema's wrapped types.
			for field, want := range map[string]string{"Customer.alertOptInStatus": "[AlertOptInStatus!]!", "Query.nodes": "[Node]!", "Customer.parent": "Customer"} {
				if got := fieldTypes[field]; got != want {
					t.Errorf("%s: type %q, want %q", field, got, want)
				}
			}
			if len(s.Directives) == 0 {
				t.Error("no directives")
			}
		})
	}
}

// Introspection deeper or larger than the standard documents is still refused.
func TestAbusiveIntrospectionIsRefused(t *testing.T) {
	e := newEnv(t, "sqlite", nil) // open mode: an admin, who may introspect
	standard := string(must(os.ReadFile(standardIntrospection["graphql-js"])))
	fullSchema := standard[strings.Index(standard, "fragment FullType"):]
	ofTypes := func(n int) string {
		return strings.Repeat("ofType { ", n) + "name" + strings.Repeat(" }", n)
	}
	for name, c := range map[string]struct{ doc, code string }{
		// gqlparser's own rule (graphql-js's MaxIntrospectionDepthRule) refuses this one first.
		"type members below type members": {
			`{ __type(name: "Customer") { fields { type { fields { type { fields { name } } } } } } }`, "GRAPHQL_VALIDATION_FAILED"},
		"one level too many": {
			`{ __type(name: "Customer") { fields { name type { name fields { name } } } } }`, "DEPTH_LIMIT_EXCEEDED"},
		"through interfaces": {
			`{ __schema { types { interfaces { fields { name } } } } }`, "DEPTH_LIMIT_EXCEEDED"},
		"through fragments": {
			`{ __schema { types { ...T } } } fragment T on __Type { possibleTypes { ...M } } fragment M on __Type { enumValues { name } }`,
			"DEPTH_LIMIT_EXCEEDED"},
		"members below ofType": {
			`{ __type(name: "Query") { fields { type { ofType { ofType { inputFields { name } } } } } } }`, "DEPTH_LIMIT_EXCEEDED"},
		"ofType deeper than graphql-js nests it": {
			`{ __type(name: "Query") { fields { type { ` + ofTypes(10) + ` } } } }`, "DEPTH_LIMIT_EXCEEDED"},
		"depth outside introspection": {
			`{ __type(name: "Query") { name } customers { nodes {` + strings.Repeat(" parent {", 10) + " id" + strings.Repeat(" }", 10) + " } } }",
			"DEPTH_LIMIT_EXCEEDED"},
		"many whole-schema introspections": {
			"{" + aliased(6, "__schema { types { ...FullType } }") + " }\n" + fullSchema, "COMPLEXITY_LIMIT_EXCEEDED"},
		"many aliases of __schema": {
			"{" + aliased(300, "__schema { types { fields { args { name } } } }") + " }", "COMPLEXITY_LIMIT_EXCEEDED"},
		"many aliases of __type": {
			"{" + aliased(300, `__type(name: "Customer") { fields { args { name } } }`) + " }", "COMPLEXITY_LIMIT_EXCEEDED"},
	} {
		t.Run(name, func(t *testing.T) {
			errs := e.errorsOf(t, c.doc, nil)
			if errs[0].code() != c.code {
				t.Errorf("got %+v, want %s", errs[0], c.code)
			}
		})
	}
	// What the standard document nests is allowed, and a few copies of it: ofType 9 levels deep, one member list.
	e.query(t, `{ __type(name: "Query") { fields { type { `+ofTypes(9)+` } } } }`, nil, nil)
	e.query(t, `{ __type(name: "Customer") { fields { name type { name kind } } } }`, nil, nil)
	e.query(t, "{"+aliased(3, "__schema { types { ...FullType } }")+" }\n"+fullSchema, nil, nil)
}

// aliased repeats a selection n times, each under an alias of its own.
func aliased(n int, selection string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " a%d: %s", i, selection)
	}
	return b.String()
}

// A reader's introspection is refused with the documented message, the standard documents
// included: they now pass the limits, so the refusal comes from the access rule.
func TestReaderIntrospectionRefused(t *testing.T) {
	e := newEnv(t, "sqlite", withAuth)
	e.token = token(t, "reader", "OA")
	for name, file := range standardIntrospection {
		t.Run(name, func(t *testing.T) {
			r := e.post(t, string(must(os.ReadFile(file))), nil)
			if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "introspection") {
				t.Fatalf("got %s %+v", r.Data, r.Errors)
			}
			if strings.Contains(string(r.Data), "Customer") {
				t.Errorf("schema leaked to a reader: %s", r.Data)
			}
		})
	}
}
