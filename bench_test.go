package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/portfolio-graph/portfolio-graph/feed"
)

// Benchmarks of the read path: the benchmark queries of the comparison with PostGraphile and
// two deeper shapes, served in-process through the whole HTTP handler (middleware,
// authentication, transport, executor, loaders, store) on a store holding a synthetic
// portfolio. Run with
//
//	go test -run '^$' -bench BenchmarkRead -benchmem .
//
// (with TEST_DATABASE_URL set, on PostgreSQL too). Each result reports, besides ns/op, B/op
// and allocs/op, the SQL statements per request (stmts/op) and the response size (resp-B).

// benchCustomers is the size of the portfolio the benchmarks read.
const benchCustomers = 3000

// The query texts are the comparison's, so that the figures here track the end-to-end ones.
const (
	benchCustomerFields = `sourceCustomerId sourceParentCustomerId organizationId postalCode country
	customerCreationDate enrollmentStartDate enrollmentEndDate enrollmentOptInStatus alertOptInStatus
	targetingIndicator`
	benchAccountFields = `sourceAccountId sourceCustomerIds primarySourceCustomerId status type
	sourcePortfolioId accountOpenDate accountCloseDate`
	benchCardFields = `sourceAccountId sourceCustomerId last4 iin cardType status networkIdentifier
	openDate closeDate`

	// (a) one customer with its accounts and their cards.
	benchQueryA = `query CustomerById($id: String!) {
  customer(sourceCustomerId: $id) { ` + benchCustomerFields + `
    accounts { ` + benchAccountFields + ` cards { ` + benchCardFields + ` } } } }`
	// (b) the first 50 customers of an organization, nested as (a), and the page info.
	benchQueryB = `query CustomersByOrg($org: String!, $first: Int = 50) {
  customers(filter: { organizationIds: [$org] }, orderBy: { field: SOURCE_CUSTOMER_ID, direction: ASC }, first: $first) {
    nodes { ` + benchCustomerFields + `
      accounts { ` + benchAccountFields + ` cards { ` + benchCardFields + ` } } }
    pageInfo { hasNextPage endCursor } } }`
	// (c) cards by last4 and IIN with their account and holder.
	benchQueryC = `query CardsByLast4Iin($last4: String!, $iin: String!) {
  cards(filter: { last4: $last4, iin: $iin }) {
    nodes { ` + benchCardFields + `
      account { sourceAccountId status type sourcePortfolioId accountOpenDate accountCloseDate }
      customer { ` + benchCustomerFields + ` } } } }`
	// (d) deeper: 20 customers, their accounts' holders and the holders' cards.
	benchQueryD = `query Holders($org: String!) {
  customers(filter: { organizationIds: [$org] }, first: 20) {
    nodes { sourceCustomerId
      accounts { sourceAccountId status
        holders { ` + benchCustomerFields + ` cards { ` + benchCardFields + ` account { sourceAccountId type } } }
        cards { last4 customer { sourceCustomerId } } } } } }`
	// (e) a filtered page with its total.
	benchQueryE = `query Filtered($org: String!) {
  customers(filter: { organizationIds: [$org], countries: ["US"], enrollmentOptInStatuses: [ACTIVE] }, first: 50) {
    totalCount
    nodes { ` + benchCustomerFields + ` }
    pageInfo { hasNextPage endCursor } } }`
)

// BenchmarkRead runs each benchmark query on each store.
func BenchmarkRead(b *testing.B) {
	kinds := []string{"sqlite"}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		kinds = append(kinds, "postgres")
	}
	for _, kind := range kinds {
		b.Run(kind, func(b *testing.B) {
			r := newBenchReader(b, kind)
			orgs := []any{}
			for i := 1; i <= 5; i++ {
				orgs = append(orgs, obj{"org": fmt.Sprintf("5000%d", i)})
			}
			// The direct executor of queries (the default), and gqlgen's generated one.
			for _, direct := range []bool{true, false} {
				name := map[bool]string{true: "direct", false: "generated"}[direct]
				b.Run(name, func(b *testing.B) {
					r.useDirect(b, direct)
					r.run(b, "a-customer", benchQueryA, r.customerVars)
					r.run(b, "b-org-page", benchQueryB, orgs)
					r.run(b, "c-cards-last4-iin", benchQueryC, r.cardVars)
					r.run(b, "d-holders-cards", benchQueryD, orgs)
					r.run(b, "e-filtered-total", benchQueryE, orgs)
				})
			}
		})
	}
}

// benchReader is a store filled with the demo portfolio and the server's handler over it.
type benchReader struct {
	e            *env
	handler      http.Handler
	customerVars []any // {"id": ...}
	cardVars     []any // {"last4": ..., "iin": ...}
}

func newBenchReader(b *testing.B, kind string) *benchReader {
	b.Helper()
	e := newEnv(b, kind, nil)
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	portfolio := feed.Demo(benchCustomers, 1)
	for _, c := range portfolio {
		if err := enc.Encode(c); err != nil {
			b.Fatal(err)
		}
	}
	totals, err := feed.Load(ctx, &buf, ingester(e.store, e.cfg, quiet), feed.Options{BatchSize: 500})
	if err != nil || totals.RejectedBatches > 0 {
		b.Fatalf("load the demo portfolio: %v %+v", err, totals)
	}
	if err := e.store.Analyze(ctx); err != nil { // as the ingest command does after a load
		b.Fatal(err)
	}
	verifier, err := newVerifier(e.cfg)
	if err != nil {
		b.Fatal(err)
	}
	r := &benchReader{e: e, handler: newHTTPHandler(e.store, e.cfg, verifier, quiet, false)}
	// Every 7th customer, and the cards of every 5th, as the comparison samples its variables.
	for i := 0; i < len(portfolio); i += 7 {
		r.customerVars = append(r.customerVars, obj{"id": *portfolio[i].SourceCustomerID})
	}
	for i := 0; i < len(portfolio); i += 5 {
		for _, a := range portfolio[i].Accounts {
			for _, c := range a.Cards {
				r.cardVars = append(r.cardVars, obj{"last4": *c.Last4, "iin": *c.Iin})
			}
		}
	}
	return r
}

// useDirect serves through a handler with the direct executor on or off.
func (r *benchReader) useDirect(b *testing.B, direct bool) {
	cfg := *r.e.cfg
	cfg.generatedReads = !direct
	verifier, err := newVerifier(&cfg)
	if err != nil {
		b.Fatal(err)
	}
	r.handler = newHTTPHandler(r.e.store, &cfg, verifier, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
}

// run benchmarks one query, cycling through its variables.
func (r *benchReader) run(b *testing.B, name, query string, vars []any) {
	bodies := make([][]byte, len(vars))
	for i, v := range vars {
		bodies[i] = []byte(jsonString(obj{"query": query, "variables": v}))
	}
	b.Run(name, func(b *testing.B) {
		size := 0
		for i, body := range bodies[:min(len(bodies), 5)] {
			raw := r.serve(b, body)
			if bytes.Contains(raw, []byte(`"errors"`)) || !bytes.Contains(raw, []byte(`"sourceCustomerId"`)) {
				b.Fatalf("variables %d: unexpected answer %.500s", i, raw)
			}
			size += len(raw)
		}
		before := r.e.statements.Load()
		i := 0
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			r.serve(b, bodies[i%len(bodies)])
			i++
		}
		b.StopTimer()
		b.ReportMetric(float64(r.e.statements.Load()-before)/float64(i), "stmts/op")
		b.ReportMetric(float64(size)/float64(min(len(bodies), 5)), "resp-B")
	})
}

// serve answers one POST /query in-process and returns the body.
func (r *benchReader) serve(b *testing.B, body []byte) []byte {
	req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	r.handler.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %s", w.Code, w.Body.Bytes())
	}
	return w.Body.Bytes()
}
