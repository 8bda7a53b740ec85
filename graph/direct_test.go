package graph

import (
	"bytes"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// directTypes must name the schema's fields exactly: a field added to one of these types
// without a writer in direct.go would send every query selecting it to gqlgen for good, and a
// writer for a field that is not in the schema would never run.
func TestDirectTypesMatchTheSchema(t *testing.T) {
	for typ, fields := range directTypes {
		def := parsedSchema.Types[typ]
		if def == nil {
			t.Errorf("direct.go writes %s, which the schema does not define", typ)
			continue
		}
		inSchema := map[string]bool{"__typename": true}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue // __schema and __type on Query: introspection stays with gqlgen
			}
			inSchema[f.Name] = true
			child, known := fields[f.Name]
			switch {
			case !known && typ == "Query":
				// Root fields other than the portfolio's reads (node, nodes, portfolioStats,
				// viewer) are left to gqlgen on purpose.
			case !known:
				t.Errorf("%s.%s has no writer in direct.go", typ, f.Name)
			case child != "" && child != f.Type.Name():
				t.Errorf("%s.%s is %s in the schema, %s in direct.go", typ, f.Name, f.Type.Name(), child)
			case child == "" && parsedSchema.Types[f.Type.Name()].IsCompositeType():
				t.Errorf("%s.%s is an object (%s) in the schema, a leaf in direct.go", typ, f.Name, f.Type.Name())
			}
		}
		for name := range fields {
			if !inSchema[name] {
				t.Errorf("direct.go writes %s.%s, which the schema does not define", typ, name)
			}
		}
		if _, ok := directImplementors[typ]; !ok {
			t.Errorf("directImplementors lacks %s", typ)
		}
	}
}

// appendGraphQLString writes every string as graphql.MarshalString does: each byte value
// alone and inside text, and multi-byte and invalid UTF-8.
func TestAppendGraphQLStringMatchesGqlgen(t *testing.T) {
	inputs := []string{"", "plain", "é日本", "\xff\xfe", `"\<&>`, "a\u2028b"}
	for c := 0; c < 0x80; c++ {
		inputs = append(inputs, string(rune(c)), "x"+string(rune(c))+"y")
	}
	for _, in := range inputs {
		var want bytes.Buffer
		graphql.MarshalString(in).MarshalGQL(&want)
		if got := appendGraphQLString(nil, in); string(got) != want.String() {
			t.Errorf("%q: wrote %s, gqlgen writes %s", in, got, want.String())
		}
	}
}
