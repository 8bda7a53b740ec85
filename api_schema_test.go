package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// GET /schema.graphql serves the schema the server runs, the text of schema.graphqls, to the
// callers that may introspect: admins, and every caller in open mode. A reader gets 403
// FORBIDDEN, a request without a token 401, as introspection would refuse them.
func TestSchemaSDL(t *testing.T) {
	want := string(readFile(t, "schema.graphqls"))
	get := func(t *testing.T, base, token, method string) (*http.Response, string) {
		t.Helper()
		req := must(http.NewRequest(method, base+"/schema.graphql", nil))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp := must(http.DefaultClient.Do(req))
		defer resp.Body.Close()
		return resp, string(must(io.ReadAll(resp.Body)))
	}
	served := func(t *testing.T, base, token string) {
		t.Helper()
		resp, body := get(t, base, token, http.MethodGet)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || body != want {
			t.Fatalf("GET /schema.graphql: %d %s, %d bytes, want 200 text/plain and schema.graphqls (%d bytes): %.200s",
				resp.StatusCode, resp.Header.Get("Content-Type"), len(body), len(want), body)
		}
		schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: body})
		if err != nil || schema.Query == nil || schema.Types["Viewer"] == nil {
			t.Fatalf("the SDL served does not load as a schema: %v", err)
		}
		if resp, _ := get(t, base, token, http.MethodPost); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST /schema.graphql: %d, want 405", resp.StatusCode)
		}
	}
	forEachStoreWith(t, withAuth, func(t *testing.T, e *env) {
		served(t, e.url, token(t, "admin"))
		for name, c := range map[string]struct {
			token  string
			status int
			code   string
		}{
			"reader":   {token(t, "reader", "O1"), http.StatusForbidden, "FORBIDDEN"},
			"writer":   {token(t, "writer", "*"), http.StatusForbidden, "FORBIDDEN"},
			"no token": {"", http.StatusUnauthorized, "UNAUTHENTICATED"},
		} {
			resp, body := get(t, e.url, c.token, http.MethodGet)
			if resp.StatusCode != c.status || !strings.Contains(body, `"code":"`+c.code+`"`) || strings.Contains(body, "type Query") {
				t.Errorf("%s: got %d %s, want %d %s", name, resp.StatusCode, body, c.status, c.code)
			}
		}
	})
	t.Run("open mode", func(t *testing.T) {
		served(t, newEnv(t, "sqlite", nil).url, "")
	})
}
