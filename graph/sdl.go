package graph

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
)

// SchemaSDL is the schema the server runs as SDL: the text of schema.graphqls, as gqlgen
// embedded it in the executable schema (the sources of its types, without gqlparser's
// built-in definitions).
var SchemaSDL = sync.OnceValue(func() string {
	return sdlOf(NewExecutableSchema(Config{}).Schema())
})

func sdlOf(schema *ast.Schema) string {
	var sources []*ast.Source
	for _, def := range schema.Types {
		if src := def.Position.Src; src != nil && !src.BuiltIn && !slices.Contains(sources, src) {
			sources = append(sources, src)
		}
	}
	slices.SortFunc(sources, func(a, b *ast.Source) int { return strings.Compare(a.Name, b.Name) })
	texts := make([]string, len(sources))
	for i, src := range sources {
		texts[i] = src.Input
	}
	return strings.Join(texts, "\n")
}

// SchemaHandler serves SchemaSDL as text/plain, for the tools that read a schema from a
// .graphql file or URL (relay-compiler, GraphQL Codegen, graphql-config). It shows what
// introspection shows: the route puts it behind the same rule (admins only).
func SchemaHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, SchemaSDL())
	})
}
