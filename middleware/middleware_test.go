package middleware_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// errorBody is the GraphQL answer of a refusal.
type errorBody struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// code returns the one error code of a refusal, failing when body is not exactly one coded
// error with no data.
func code(t *testing.T, body []byte) string {
	t.Helper()
	var b errorBody
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	if len(b.Errors) != 1 || b.Data != nil {
		t.Fatalf("want one error and no data, got %s", body)
	}
	c, _ := b.Errors[0].Extensions["code"].(string)
	return c
}

// do sends req to h through a real server and returns the answer's status, headers and body.
func do(t *testing.T, h http.Handler, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	u := srv.URL + req.URL.RequestURI()
	out, err := http.NewRequest(req.Method, u, req.Body)
	if err != nil {
		t.Fatal(err)
	}
	out.Header = req.Header
	out.ContentLength = req.ContentLength
	resp, err := srv.Client().Do(out)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// reached is a handler that records whether it was called and answers 200 "ok".
type reached struct {
	mu     sync.Mutex
	called bool
	body   []byte
	req    *http.Request
}

func (h *reached) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.called, h.body, h.req = true, b, r
	h.mu.Unlock()
	_, _ = io.WriteString(w, "ok")
}

func (h *reached) wasCalled() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.called
}

// logBuffer is a slog text log tests can read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLog(level slog.Level) (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: level})), b
}

func post(path, ctype, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	return r
}
