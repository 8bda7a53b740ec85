package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// With tracing off, a request without a traceparent costs nothing more: no span, no
// allocation.
func TestTraceOffAllocatesNothing(t *testing.T) {
	h := Trace(nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest(http.MethodPost, "/query", nil)
	w := httptest.NewRecorder()
	if n := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) }); n != 0 {
		t.Errorf("%v allocations per request with tracing off, want 0", n)
	}
}

// With tracing off, the caller's trace id is still read, for the access log.
func TestTraceOffReadsTraceparent(t *testing.T) {
	var got string
	h := Trace(nil, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = traceID(r.Context()) }))
	req := httptest.NewRequest(http.MethodPost, "/query", nil)
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace id: got %q", got)
	}
}
