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

// Bodies the fast path leaves to the GraphQL layer although StrictJSON, which runs before it
// in the server, refuses some of them first: each is tried here on its own.
func TestDecodeIngestBodyLeavesAmbiguousBodies(t *testing.T) {
	const query = `mutation($c: [CustomerInput!]!) { ingestCustomers(customers: $c) { summary { customers { created } } } }`
	customers := `[{"sourceCustomerId":"C1","organizationId":"O1","postalCode":"1","country":"US","customerCreationDate":"2020-01-01","enrollmentStartDate":"2020-01-01","enrollmentOptInStatus":"ACTIVE","alertOptInStatus":["ALL"],"targetingIndicator":"TARGET","accounts":[]}]`
	q, _ := json.Marshal(query)
	plain := `{"query":` + string(q) + `,"variables":{"c":` + customers + `}}`
	if _, d := decodeIngestBody([]byte(plain), 10000); d == nil || len(d.customers) != 1 {
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
		if _, d := decodeIngestBody([]byte(body), 10000); d != nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
