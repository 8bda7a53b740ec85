package graph

import (
	"encoding/json"
	"testing"

	"github.com/portfolio-graph/portfolio-graph/feed"
)

// BenchmarkDecodeIngestBody decodes the body of an ingestCustomers request of 1,000 demo
// customers, as withDecodedIngest does before the transport reads it.
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
		if _, d := decodeIngestBody(body, 10000); d == nil || len(d.customers) != 1000 {
			b.Fatal("not decoded")
		}
	}
}
