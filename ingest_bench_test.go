package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/portfolio-graph/portfolio-graph/db"
	"github.com/portfolio-graph/portfolio-graph/feed"
)

// BenchmarkIngest loads the demo portfolio (ingestBenchCustomers customers) through the two
// ingest paths, each into an empty store ("load") and again unchanged ("replay"):
//
//   - file: the ingest command's loader (feed.Load and ingester, batches of 500, two in flight);
//   - mutation: ingestCustomers through the whole HTTP handler, in-process, one batch of
//     1,000 at a time, as a client sends them;
//   - mutation-generated: the same with generatedIngest (tests only), the customers validated and
//     unmarshalled by gqlparser and gqlgen.
//
// Run with
//
//	go test -run '^$' -bench BenchmarkIngest -benchmem .
//
// (with TEST_DATABASE_URL set, on PostgreSQL too). One op is the whole portfolio; besides
// ns/op, B/op and allocs/op it reports customers/s.
func BenchmarkIngest(b *testing.B) {
	kinds := []string{"sqlite"}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		kinds = append(kinds, "postgres")
	}
	var ndjson bytes.Buffer
	enc := json.NewEncoder(&ndjson)
	portfolio := feed.Demo(ingestBenchCustomers, 1)
	for _, c := range portfolio {
		if err := enc.Encode(c); err != nil {
			b.Fatal(err)
		}
	}
	var bodies [][]byte
	for i := 0; i < len(portfolio); i += 1000 {
		vars := obj{"customers": portfolio[i:min(i+1000, len(portfolio))]}
		bodies = append(bodies, []byte(jsonString(obj{"query": ingestMutation, "variables": vars})))
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	paths := []struct {
		name string
		load func(b *testing.B, e *env) *feed.Totals
	}{
		{"file", func(b *testing.B, e *env) *feed.Totals {
			t, err := feed.Load(context.Background(), bytes.NewReader(ndjson.Bytes()), ingester(e.store, e.cfg, quiet), loadOptions(feed.Options{BatchSize: 500}))
			if err != nil || t.RejectedBatches > 0 {
				b.Fatalf("load: %v %+v", err, t)
			}
			return t
		}},
		{"mutation", func(b *testing.B, e *env) *feed.Totals {
			postBatches(b, e.store, e.cfg, bodies, quiet)
			return nil
		}},
		{"mutation-generated", func(b *testing.B, e *env) *feed.Totals {
			cfg := *e.cfg
			cfg.generatedIngest = true
			postBatches(b, e.store, &cfg, bodies, quiet)
			return nil
		}},
	}
	for _, kind := range kinds {
		for _, p := range paths {
			b.Run(kind+"/"+p.name+"/load", func(b *testing.B) {
				b.ReportAllocs()
				var spent time.Duration
				for b.Loop() {
					b.StopTimer()
					e := newEnv(b, kind, nil)
					b.StartTimer()
					start := time.Now()
					p.load(b, e)
					spent += time.Since(start)
				}
				b.ReportMetric(float64(b.N*ingestBenchCustomers)/spent.Seconds(), "customers/s")
			})
			b.Run(kind+"/"+p.name+"/replay", func(b *testing.B) {
				e := newEnv(b, kind, nil)
				p.load(b, e)
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				for b.Loop() {
					if t := p.load(b, e); t != nil && t.Customers.Unchanged != ingestBenchCustomers {
						b.Fatalf("replay changed rows: %+v", t.Customers)
					}
				}
				b.ReportMetric(float64(b.N*ingestBenchCustomers)/time.Since(start).Seconds(), "customers/s")
			})
		}
	}
}

// postBatches sends each body to ingestCustomers through the whole HTTP handler of cfg.
func postBatches(b *testing.B, store *db.Store, cfg *config, bodies [][]byte, log *slog.Logger) {
	verifier, err := newVerifier(cfg)
	if err != nil {
		b.Fatal(err)
	}
	h := newHTTPHandler(store, cfg, verifier, log, false)
	for _, body := range bodies {
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) ||
			!bytes.Contains(w.Body.Bytes(), []byte(`"userErrors":[]`)) {
			b.Fatalf("status %d: %.500s", w.Code, w.Body.Bytes())
		}
	}
}

// ingestBenchCustomers is the size of the portfolio BenchmarkIngest loads.
const ingestBenchCustomers = 3000
