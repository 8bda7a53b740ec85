package graph

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/portfolio-graph/portfolio-graph/feed"
	"github.com/portfolio-graph/portfolio-graph/inflight"
)

// BenchmarkDecodeIngestBody decodes the body of an ingestCustomers request of 1,000 demo
// customers, as ingestInput does before the transport reads it.
//
//	go test -run '^$' -bench BenchmarkDecodeIngestBody -benchmem ./graph
func BenchmarkDecodeIngestBody(b *testing.B) {
	const query = `mutation($customers: [CustomerInput!]!) { ingestCustomers(customers: $customers) { summary { customers { created } } } }`
	body, err := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"customers": feed.Demo(1000, 1)}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, d := decodeIngestBody(body, 10000, 1000, true); d == nil || len(d.customers) != 1000 {
			b.Fatal("not decoded")
		}
	}
}

// Bodies the fast path leaves to the GraphQL layer although StrictJSON, which runs before it
// in the server, refuses some of them first: each is tried here on its own.
func TestDecodeIngestBodyLeavesAmbiguousBodies(t *testing.T) {
	const query = `mutation($c: [CustomerInput!]!) { ingestCustomers(customers: $c) { summary { customers { created } } } }`
	customers := `[{"sourceCustomerId":"C1","organizationId":"O1","postalCode":"1","country":"US","customerCreationDate":"2020-01-01","enrollmentStartDate":"2020-01-01","enrollmentOptInStatus":"ACTIVE","alertOptInStatus":["ALL"],"targetingIndicator":"TARGET","accounts":[]}]`
	q, _ := json.Marshal(query)
	plain := `{"query":` + string(q) + `,"variables":{"c":` + customers + `}}`
	if _, d := decodeIngestBody([]byte(plain), 10000, 1000, true); d == nil || len(d.customers) != 1 {
		t.Fatalf("the plain body was not decoded: %v", d)
	}
	for name, body := range map[string]string{
		"duplicate key":      `{"query":` + string(q) + `,"query":` + string(q) + `,"variables":{"c":` + customers + `}}`,
		"customers twice":    `{"query":` + string(q) + `,"variables":{"c":` + customers + `,"c":` + customers + `}}`,
		"data after":         plain + ` {}`,
		"Variables":          `{"query":` + string(q) + `,"Variables":{"c":` + customers + `}}`,
		"unknown key":        `{"query":` + string(q) + `,"x":1,"variables":{"c":` + customers + `}}`,
		"junk after a value": `{"query":` + string(q) + `,"variables":{"c":[` + customers[1:len(customers)-1] + ` x]}}`,
	} {
		if _, d := decodeIngestBody([]byte(body), 10000, 1000, true); d != nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// A list over the batch limit is decoded no further than the limit: the rest is only counted,
// so refusing it allocates a fraction of what decoding it would.
func TestDecodeIngestBodyStopsAtTheBatchLimit(t *testing.T) {
	const query = `mutation($customers: [CustomerInput!]!) { ingestCustomers(customers: $customers) { summary { customers { created } } } }`
	body, err := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"customers": feed.Demo(4000, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	allocated := func(maxBatch int) (uint64, *decodedIngest) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, d := decodeIngestBody(body, 10000, maxBatch, true)
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc, d
	}
	all, d := allocated(4000)
	if d == nil || len(d.customers) != 4000 {
		t.Fatal("the list within the limit was not decoded")
	}
	refused, d := allocated(200)
	if d == nil || d.count != 4000 || d.max != 200 || d.customers != nil {
		t.Fatalf("over the limit: got %+v", d)
	}
	t.Logf("decoding 4,000 customers (%d bytes) allocated %d bytes, refusing them over a limit of 200 %d", len(body), all, refused)
	if refused > all/10 {
		t.Errorf("refusing the list allocated %d bytes, decoding it %d: it was decoded beyond the limit", refused, all)
	}
}

// An ingest request, or another body over 64 KiB, that cannot have its turn to be decoded in
// time is refused with 503 SERVICE_UNAVAILABLE and Retry-After; other requests take no turn; a
// request gives its turn back.
func TestDecodesInFlight(t *testing.T) {
	decodes := inflight.New(1, 20*time.Millisecond)
	ran := 0
	h := decodesInFlight(decodes, ingestInput{maxTokens: 10000, maxBatch: 1000, direct: true}.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran++
	})))
	post := func(body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/query", nil)
		r.Body = newBodyBytes([]byte(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	const ingest = `{"query":"mutation($c: [CustomerInput!]!) { ingestCustomers(customers: $c) { userErrors { code } } }","variables":{"c":[]}}`
	large := `{"query":"{ viewer { role } }","variables":{"x":"` + strings.Repeat("x", 64<<10) + `"}}`
	if err := decodes.Acquire(context.Background(), 1); err != nil { // another request decodes
		t.Fatal(err)
	}
	for name, body := range map[string]string{"ingest": ingest, "large": large} {
		w := post(body)
		answer, _ := io.ReadAll(w.Body)
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" || !strings.Contains(string(answer), `"code":"SERVICE_UNAVAILABLE"`) || ran != 0 {
			t.Errorf("%s, while another decodes: got %d, Retry-After %q, %s (ran: %d)", name, w.Code, w.Header().Get("Retry-After"), answer, ran)
		}
	}
	if w := post(`{"query":"{ viewer { role } }"}`); w.Code != http.StatusOK || ran != 1 {
		t.Errorf("a small query waited for a turn: %d", w.Code)
	}
	decodes.Release(1)
	for name, body := range map[string]string{"ingest": ingest, "large": large} {
		if w := post(body); w.Code != http.StatusOK {
			t.Errorf("%s, once the other is done: %d", name, w.Code)
		}
	}
	if ran != 3 || decodes.Acquire(context.Background(), 1) != nil {
		t.Errorf("ran %d; the requests did not give their turns back", ran)
	}
}
