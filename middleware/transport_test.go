package middleware_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-graph/portfolio-graph/inflight"
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
			resp, body := do(t, middleware.ReadBody(max, nil, next), c.req)
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

// Large bodies share the bytes in flight: one that cannot have its share in time is refused
// with 503 SERVICE_UNAVAILABLE and Retry-After, unread, whether its length is declared or it
// comes chunked; a body's bytes are given back once it is answered; small bodies never wait.
func TestReadBodyShareOfBodiesInFlight(t *testing.T) {
	const max = 1 << 20
	large := strings.Repeat("x", 200<<10)
	sized := func(body string) *http.Request {
		return httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(body))
	}
	chunked := func(body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/query", io.MultiReader(strings.NewReader(body)))
		r.ContentLength = -1
		return r
	}
	bodies := inflight.New(max, 50*time.Millisecond)
	// Another request holds all but 100 KiB.
	if err := bodies.Acquire(context.Background(), max-100<<10); err != nil {
		t.Fatal(err)
	}
	for name, req := range map[string]*http.Request{"declared": sized(large), "chunked": chunked(large)} {
		next := &reached{}
		resp, body := do(t, middleware.ReadBody(max, bodies, next), req)
		if resp.StatusCode != http.StatusServiceUnavailable || code(t, body) != "SERVICE_UNAVAILABLE" || resp.Header.Get("Retry-After") != "1" || next.wasCalled() {
			t.Errorf("%s, over what is left: got %d %s, Retry-After %q (handler called: %v), want 503 SERVICE_UNAVAILABLE",
				name, resp.StatusCode, body, resp.Header.Get("Retry-After"), next.wasCalled())
		}
	}
	for name, req := range map[string]*http.Request{
		"small": sized(strings.Repeat("s", 64<<10)), "small, chunked": chunked(strings.Repeat("s", 64<<10)),
		"within what is left": sized(large[:90<<10]), "within what is left, chunked": chunked(large[:90<<10]),
	} {
		next := &reached{}
		if resp, body := do(t, middleware.ReadBody(max, bodies, next), req); resp.StatusCode != 200 || !next.wasCalled() {
			t.Errorf("%s: got %d %s", name, resp.StatusCode, body)
		}
	}
	bodies.Release(max - 100<<10)
	for name, req := range map[string]*http.Request{"declared": sized(large), "chunked": chunked(large)} {
		next := &reached{}
		if resp, body := do(t, middleware.ReadBody(max, bodies, next), req); resp.StatusCode != 200 || len(next.body) != len(large) {
			t.Errorf("%s, once the other request is answered: got %d %s", name, resp.StatusCode, body)
		}
	}
	// Every body gave its share back: the whole limit can be had again.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := bodies.Acquire(ctx, max); err != nil {
		t.Errorf("the bodies read did not give back their bytes: %v", err)
	}
}
