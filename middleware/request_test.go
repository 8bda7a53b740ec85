package middleware_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-graph/portfolio-graph/graph"
	"github.com/portfolio-graph/portfolio-graph/middleware"
)

// A request keeps a short id its caller sent, gets a fresh one otherwise, and answers with it.
func TestRequestID(t *testing.T) {
	log, _ := newLog(slog.LevelInfo)
	var seen string
	h := middleware.Request(time.Minute, log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = graph.RequestIDFrom(r.Context())
	}))
	cases := []struct {
		name, sent string
		kept       bool
	}{
		{"sent", "abc-123", true},
		{"none", "", false},
		{"too long", strings.Repeat("x", 65), false},
	}
	ids := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/query", nil)
			if c.sent != "" {
				req.Header.Set("X-Request-Id", c.sent)
			}
			resp, _ := do(t, h, req)
			got := resp.Header.Get("X-Request-Id")
			if got == "" || got != seen {
				t.Fatalf("X-Request-Id %q, the handler saw %q", got, seen)
			}
			if (got == c.sent) != c.kept {
				t.Errorf("sent %q, got %q", c.sent, got)
			}
			if ids[got] {
				t.Errorf("id %q given twice", got)
			}
			ids[got] = true
		})
	}
}

// The handler runs under the request's time limit.
func TestRequestTimeLimit(t *testing.T) {
	log, _ := newLog(slog.LevelInfo)
	var deadline time.Time
	var ok bool
	h := middleware.Request(3*time.Second, log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadline, ok = r.Context().Deadline()
	}))
	before := time.Now()
	do(t, h, httptest.NewRequest(http.MethodGet, "/", nil))
	if !ok || deadline.Before(before) || deadline.After(before.Add(3*time.Second+time.Minute)) {
		t.Errorf("deadline %v (set: %v), want about 3s after %v", deadline, ok, before)
	}
}

// An answer the GraphQL layer marked unavailable is 503, with Retry-After. The access log has
// one line per request with its id, status and error codes: at ERROR when an internal error is
// among them, at INFO for an unavailable database (the store logs the cause once), at WARN for
// another 5xx, at DEBUG for health checks.
func TestAccessLog(t *testing.T) {
	log, logs := newLog(slog.LevelDebug)
	h := middleware.Request(time.Minute, log, middleware.ReadBody(8, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := graph.RequestInfoFrom(r.Context())
		switch r.URL.Path {
		case "/down":
			info.AddCode("SERVICE_UNAVAILABLE")
			info.Unavailable = true
		case "/partly-down":
			info.AddCode("SERVICE_UNAVAILABLE")
			info.AddCode("NOT_FOUND")
			info.AddCode("SERVICE_UNAVAILABLE")
		case "/broken":
			w.WriteHeader(http.StatusBadGateway)
		case "/bug":
			info.AddCode("SERVICE_UNAVAILABLE")
			info.AddCode("INTERNAL_SERVER_ERROR")
		}
		_, _ = io.WriteString(w, "{}")
	})))
	cases := []struct {
		path, body string
		status     int
		level      string
		codes      string
	}{
		{"/query", "", 200, "INFO", ""},
		{"/down", "", 503, "INFO", "SERVICE_UNAVAILABLE"},
		{"/partly-down", "", 200, "INFO", "SERVICE_UNAVAILABLE,NOT_FOUND"},
		{"/broken", "", 502, "WARN", ""},
		{"/bug", "", 200, "ERROR", "SERVICE_UNAVAILABLE,INTERNAL_SERVER_ERROR"},
		{"/big", "123456789", 413, "INFO", "PAYLOAD_TOO_LARGE"},
		{"/healthz", "", 200, "DEBUG", ""},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			id := "id" + strings.TrimPrefix(c.path, "/")
			req := httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(c.body))
			req.Header.Set("X-Request-Id", id)
			resp, _ := do(t, h, req)
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d", resp.StatusCode, c.status)
			}
			retryAfter := ""
			if c.status == http.StatusServiceUnavailable {
				retryAfter = middleware.RetryAfter
			}
			if got := resp.Header.Get("Retry-After"); got != retryAfter {
				t.Errorf("Retry-After %q, want %q", got, retryAfter)
			}
			var line string
			for l := range strings.Lines(logs.String()) {
				if strings.Contains(l, "id="+id+" ") {
					line = l
				}
			}
			codes := c.codes
			if codes == "" {
				codes = `""`
			}
			want := []string{"level=" + c.level + " msg=request", "path=" + c.path, "status=" + strconv.Itoa(c.status) + " codes=" + codes + " "}
			for _, w := range want {
				if !strings.Contains(line, w) {
					t.Errorf("log line %q lacks %q", line, w)
				}
			}
		})
	}
}
