package graph

import "testing"

// Every scalar of the schema beyond GraphQL's own is checked with the variables and literals:
// a scalar added without an entry in scalarCoercions would be refused only when its field's
// arguments are unmarshalled, as a field error.
func TestEveryCustomScalarIsCoerced(t *testing.T) {
	schema := NewExecutableSchema(Config{Resolvers: &Resolver{}}).Schema()
	builtIn := map[string]bool{"Int": true, "Float": true, "String": true, "Boolean": true, "ID": true}
	custom := 0
	for name, def := range schema.Types {
		if def.Kind != "SCALAR" || builtIn[name] {
			continue
		}
		custom++
		if scalarCoercions[name] == nil {
			t.Errorf("scalar %s has no entry in scalarCoercions", name)
		}
	}
	if custom == 0 {
		t.Error("the schema has no custom scalar: the test checks nothing")
	}
}
