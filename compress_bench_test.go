package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/portfolio-graph/portfolio-graph/feed"
	"github.com/portfolio-graph/portfolio-graph/middleware"
)

// BenchmarkCompress measures response compression on the largest page: 500 customers of the
// demo portfolio with every field, their accounts and their cards (-max-page-size). "serve-*"
// run the whole request through the HTTP handler with and without Accept-Encoding; "encode-*"
// only compress the same answer (a handler writing the stored bytes behind
// middleware.Compress), which is the CPU each compressed answer costs. wire-B is the size sent.
//
//	go test -run '^$' -bench BenchmarkCompress -benchmem .
func BenchmarkCompress(b *testing.B) {
	e := newEnv(b, "sqlite", nil)
	quiet := slog.New(slog.DiscardHandler)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, c := range feed.Demo(500, 1) {
		if err := enc.Encode(c); err != nil {
			b.Fatal(err)
		}
	}
	if totals, err := feed.Load(context.Background(), &buf, ingester(e.store, e.cfg, quiet), feed.Options{BatchSize: 500}); err != nil || totals.RejectedBatches > 0 {
		b.Fatalf("load the demo portfolio: %v %+v", err, totals)
	}
	handler := newHTTPHandler(e.store, e.cfg, nil, quiet, false)
	body := []byte(jsonString(obj{"query": `{ customers(first: 500) { nodes { ` + benchCustomerFields + `
		accounts { ` + benchAccountFields + ` cards { ` + benchCardFields + ` } } } } }`}))
	serve := func(h http.Handler, encoding string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if encoding != "" {
			req.Header.Set("Accept-Encoding", encoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	answer := serve(handler, "").Body.Bytes()
	if !bytes.HasPrefix(answer, []byte(`{"data":{"customers":{"nodes":[{`)) || bytes.Count(answer, []byte(`"sourceCustomerId"`)) < 500 {
		b.Fatalf("unexpected answer: %.300s", answer)
	}
	static := middleware.Compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	}))
	for _, c := range []struct {
		name     string
		h        http.Handler
		encoding string
	}{
		{"serve-identity", handler, ""},
		{"serve-gzip", handler, "gzip"},
		{"serve-zstd", handler, "zstd"},
		{"encode-gzip", static, "gzip"},
		{"encode-zstd", static, "zstd"},
	} {
		b.Run(c.name, func(b *testing.B) {
			rec := serve(c.h, c.encoding)
			if got := rec.Header().Get("Content-Encoding"); got != c.encoding {
				b.Fatalf("Content-Encoding %q, want %q", got, c.encoding)
			}
			wire := rec.Body.Len()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				serve(c.h, c.encoding)
			}
			b.ReportMetric(float64(wire), "wire-B")
			b.ReportMetric(float64(len(answer)), "json-B")
		})
	}
}
