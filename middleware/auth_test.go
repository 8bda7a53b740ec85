package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-graph/portfolio-graph/auth"
	"github.com/portfolio-graph/portfolio-graph/graph"
	"github.com/portfolio-graph/portfolio-graph/middleware"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// callerSeen answers 200 and remembers the caller the request carried.
type callerSeen struct{ caller *graph.Caller }

func (c *callerSeen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	got := graph.CallerFrom(r.Context())
	c.caller = &got
}

// In open mode every request is the open-mode admin.
func TestAuthenticateOpenMode(t *testing.T) {
	next := &callerSeen{}
	resp, _ := do(t, middleware.Authenticate(nil, next), httptest.NewRequest(http.MethodGet, "/query", nil))
	if resp.StatusCode != 200 || next.caller == nil || next.caller.Role != models.RoleAdmin || next.caller.Subject != nil {
		t.Errorf("got %d, caller %+v", resp.StatusCode, next.caller)
	}
}

// With a key, only a valid token reaches the handler, as the caller it names.
func TestAuthenticate(t *testing.T) {
	cfg := auth.Config{Secret: strings.Repeat("s", 32)}
	verifier, err := auth.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	valid, err := auth.Mint(cfg, "alice", "writer", []string{"O1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := auth.Mint(auth.Config{Secret: strings.Repeat("o", 32)}, "mallory", "admin", []string{"*"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, header string
		ok           bool
	}{
		{"valid", "Bearer " + valid, true},
		{"scheme in lower case", "bearer " + valid, true},
		{"no header", "", false},
		{"no token", "Bearer ", false},
		{"basic", "Basic YTpi", false},
		{"malformed", "Bearer not.a.jwt", false},
		{"signed with another key", "Bearer " + other, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/query", strings.NewReader(`{}`))
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			next := &callerSeen{}
			resp, body := do(t, middleware.Authenticate(verifier, next), req)
			if c.ok {
				if resp.StatusCode != 200 || next.caller == nil || next.caller.Role != models.RoleWriter || *next.caller.Subject != "alice" {
					t.Errorf("got %d %s, caller %+v", resp.StatusCode, body, next.caller)
				}
				return
			}
			if next.caller != nil {
				t.Fatalf("an unauthenticated request reached the handler as %+v", *next.caller)
			}
			if resp.StatusCode != http.StatusUnauthorized || code(t, body) != "UNAUTHENTICATED" ||
				!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("got %d %s %v, want 401 UNAUTHENTICATED with WWW-Authenticate", resp.StatusCode, body, resp.Header)
			}
		})
	}
}

// A CORS preflight carries no token; it passes without a caller, and so can read nothing.
func TestAuthenticatePreflight(t *testing.T) {
	verifier, err := auth.NewVerifier(auth.Config{Secret: strings.Repeat("s", 32)})
	if err != nil {
		t.Fatal(err)
	}
	next := &callerSeen{}
	resp, _ := do(t, middleware.Authenticate(verifier, next), httptest.NewRequest(http.MethodOptions, "/query", nil))
	if resp.StatusCode != 200 || next.caller == nil || next.caller.Subject != nil || next.caller.Role != models.RoleReader {
		t.Errorf("got %d, caller %+v", resp.StatusCode, next.caller)
	}
}
