package middleware_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/portfolio-graph/portfolio-graph/middleware"
)

// What the GraphQL transports cannot take is refused with a coded error before it reaches
// them; what they can take passes through.
func TestCheckTransport(t *testing.T) {
	get := func(q string) *http.Request {
		return httptest.NewRequest(http.MethodGet, "/query?query="+url.QueryEscape(q), nil)
	}
	cases := []struct {
		name   string
		req    *http.Request
		status int // 0: passed through
		allow  string
	}{
		{"POST JSON", post("/query", "application/json", `{}`), 0, ""},
		{"POST JSON with charset", post("/query", "application/json; charset=utf-8", `{}`), 0, ""},
		{"POST text", post("/query", "text/plain", `{}`), http.StatusUnsupportedMediaType, ""},
		{"POST without a type", post("/query", "", `{}`), http.StatusUnsupportedMediaType, ""},
		{"GET query", get(`{ viewer { role } }`), 0, ""},
		{"GET query naming a mutation field", get(`{ mutationCount }`), 0, ""},
		{"GET mutation", get(`mutation { deleteCustomer(sourceCustomerId: "C1") { deletedId } }`), http.StatusMethodNotAllowed, "POST"},
		{"GET subscription", get(`subscription { x }`), http.StatusMethodNotAllowed, "POST"},
		{"OPTIONS", httptest.NewRequest(http.MethodOptions, "/query", nil), 0, ""},
		{"PUT", httptest.NewRequest(http.MethodPut, "/query", strings.NewReader(`{}`)), http.StatusMethodNotAllowed, "GET, POST, OPTIONS"},
		{"DELETE", httptest.NewRequest(http.MethodDelete, "/query", nil), http.StatusMethodNotAllowed, "GET, POST, OPTIONS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next := &reached{}
			resp, body := do(t, middleware.CheckTransport(1000, next), c.req)
			if c.status == 0 {
				if !next.wasCalled() || resp.StatusCode != 200 {
					t.Errorf("not passed through: %d %s", resp.StatusCode, body)
				}
				return
			}
			if next.wasCalled() {
				t.Error("the refused request reached the handler")
			}
			if resp.StatusCode != c.status || code(t, body) != "BAD_USER_INPUT" {
				t.Errorf("got %d %s, want %d BAD_USER_INPUT", resp.StatusCode, body, c.status)
			}
			if got := resp.Header.Get("Allow"); got != c.allow {
				t.Errorf("Allow %q, want %q", got, c.allow)
			}
		})
	}
}

// A body up to the limit reaches the handler whole; one beyond it is 413, whether its length
// is announced or not, and nothing runs.
func TestReadBody(t *testing.T) {
	const max = 64
	chunked := func(body string) *http.Request {
		// io.MultiReader hides the length: the client sends the body chunked.
		r := httptest.NewRequest(http.MethodPost, "/query", io.MultiReader(strings.NewReader(body)))
		r.ContentLength = -1
		return r
	}
	sized := func(body string) *http.Request {
		return httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(body))
	}
	cases := []struct {
		name string
		req  *http.Request
		want string // body seen by the handler, or "" for a 413
	}{
		{"at the limit", sized(strings.Repeat("a", max)), strings.Repeat("a", max)},
		{"at the limit, chunked", chunked(strings.Repeat("b", max)), strings.Repeat("b", max)},
		{"empty", sized(""), ""},
		{"beyond, announced", sized(strings.Repeat("c", max+1)), ""},
		{"beyond, chunked", chunked(strings.Repeat("d", 10*max)), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next := &reached{}
			resp, body := do(t, middleware.ReadBody(max, next), c.req)
			if c.name == "empty" || c.want != "" {
				if resp.StatusCode != 200 || string(next.body) != c.want {
					t.Errorf("got %d, handler saw %q", resp.StatusCode, next.body)
				}
				return
			}
			if resp.StatusCode != http.StatusRequestEntityTooLarge || code(t, body) != "PAYLOAD_TOO_LARGE" || next.wasCalled() {
				t.Errorf("got %d %s (handler called: %v), want 413 PAYLOAD_TOO_LARGE", resp.StatusCode, body, next.wasCalled())
			}
		})
	}
}
