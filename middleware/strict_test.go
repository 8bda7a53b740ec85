package middleware_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/portfolio-graph/portfolio-graph/middleware"
)

// A body that could be read two ways is refused before anything runs, naming the key and where
// it is; any other body, valid JSON or not, passes on.
func TestStrictJSON(t *testing.T) {
	cases := []struct {
		name, body string
		want       string // in the message; "" when the body passes
	}{
		{"plain", `{"query": "{ viewer { role } }", "variables": {"a": {"b": 1, "c": [1, {"b": 2}]}}}`, ""},
		{"white space after", "{\"query\": \"{ a }\"}\n\t \r\n", ""},
		{"same key in sibling objects", `{"variables": {"x": {"k": 1}, "y": {"k": 2}}}`, ""},
		{"not JSON", `{"query": xxx`, ""},
		{"truncated", `{"query": "{ a }"`, ""},
		{"invalid UTF-8", "{\"query\": \"{ a(s: \\\"\xff\\\") }\"}", ""},
		{"not an object", `[1, 2]`, ""},
		{"query twice", `{"query": "{ a }", "query": "mutation { b }"}`, `the key "query" twice in its top-level object`},
		{"query twice, escaped", `{"query": "{ a }", "\u0071uery": "mutation { b }"}`, `the key "query" twice`},
		{"query in two cases", `{"query": "{ a }", "QUERY": "mutation { b }"}`, `the keys "query" and "QUERY"`},
		{"operationName in two cases", `{"operationName": "A", "operationname": "B"}`, `"operationName" and "operationname"`},
		{"variables twice", `{"variables": {}, "query": "{ a }", "variables": {"x": 1}}`, `the key "variables" twice`},
		{"in variables", `{"query": "{ a }", "variables": {"id": "C1", "id": "C2"}}`, `the key "id" twice in variables`},
		{"in an input object", `{"variables": {"customers": [{"address": {"city": "A", "zip": "1", "city": "B"}}]}}`,
			`the key "city" twice in variables.customers[0].address`},
		{"in extensions", `{"extensions": {"a": 1, "a": 2}}`, `the key "a" twice in extensions`},
		{"after the value", `{"query": "{ a }"} {"query": "mutation { b }"}`, "more after its JSON value, which ends at byte 18"},
		{"garbage after", `{"query": "{ a }"}x`, "more after its JSON value"},
		{"brace after", `{"query": "{ a }"}}`, "more after its JSON value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next := &reached{}
			resp, body := do(t, middleware.StrictJSON(next), post("/query", "application/json", c.body))
			if c.want == "" {
				if !next.wasCalled() || string(next.body) != c.body {
					t.Errorf("not passed on whole: %d %s; handler saw %q", resp.StatusCode, body, next.body)
				}
				return
			}
			if next.wasCalled() {
				t.Error("an ambiguous body reached the handler")
			}
			if resp.StatusCode != http.StatusBadRequest || code(t, body) != "BAD_USER_INPUT" || !strings.Contains(string(body), jsonText(c.want)) {
				t.Errorf("got %d %s, want 400 BAD_USER_INPUT saying %s", resp.StatusCode, body, c.want)
			}
		})
	}
}

// jsonText is s as it appears inside a JSON string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// A huge duplicated key is not echoed back whole.
func TestStrictJSONShortensKeys(t *testing.T) {
	key := strings.Repeat("k", 10000)
	resp, body := do(t, middleware.StrictJSON(&reached{}), post("/query", "application/json", `{"variables": {"`+key+`": 1, "`+key+`": 2}}`))
	if resp.StatusCode != http.StatusBadRequest || len(body) > 500 {
		t.Errorf("got %d, %d bytes", resp.StatusCode, len(body))
	}
}

// On GET, a request parameter given twice, or ambiguous variables, are refused the same way.
func TestStrictJSONGet(t *testing.T) {
	cases := []struct {
		name, query string
		want        string
	}{
		{"plain", "query=" + url.QueryEscape("{ a }") + "&variables=" + url.QueryEscape(`{"x": {"y": 1}}`), ""},
		{"query twice", "query=" + url.QueryEscape("{ a }") + "&query=" + url.QueryEscape("{ b }"), `the request parameter "query" is given 2 times`},
		{"duplicate variable", "query=q&variables=" + url.QueryEscape(`{"x": 1, "x": 2}`), `the variables parameter has the key "x" twice in its top-level object`},
		{"after the variables", "query=q&variables=" + url.QueryEscape(`{"x": 1} 2`), `the variables parameter has more after its JSON value`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next := &reached{}
			resp, body := do(t, middleware.StrictJSON(next), httptest.NewRequest(http.MethodGet, "/query?"+c.query, nil))
			if c.want == "" {
				if !next.wasCalled() {
					t.Errorf("not passed on: %d %s", resp.StatusCode, body)
				}
				return
			}
			if next.wasCalled() || resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), jsonText(c.want)) {
				t.Errorf("got %d %s (handler called: %v), want 400 saying %s", resp.StatusCode, body, next.wasCalled(), c.want)
			}
		})
	}
}
