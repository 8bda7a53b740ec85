package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// The POST answer is written around the executor's data without re-encoding it; the bytes must
// stay exactly those json.Marshal of the response gives: with data only, data and errors, an
// error before execution (which has no data entry at all, as the GraphQL-over-HTTP
// specification asks), and for both response media types.
func TestResponseBytesAreThoseOfJSONMarshal(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, many(3, "O1")...)
		cases := []struct{ name, accept, query string }{
			{"data", "", `{ customers(first: 2) { nodes { sourceCustomerId accounts { sourceAccountId cards { last4 } } } pageInfo { endCursor } } }`},
			{"data and errors", "", `{ a: customers(first: 1) { nodes { sourceCustomerId } } b: customer(sourceCustomerId: "C0000") { children(after: "bogus") { totalCount } } }`},
			{"parse error", "", `{ customers(`},
			{"graphql-response+json", "application/graphql-response+json", `{ customers(first: 1) { nodes { sourceCustomerId } } }`},
		}
		for _, c := range cases {
			req := must(http.NewRequest(http.MethodPost, e.url+"/query", strings.NewReader(jsonString(obj{"query": c.query}))))
			req.Header.Set("Content-Type", "application/json")
			if c.accept != "" {
				req.Header.Set("Accept", c.accept)
			}
			resp := must(http.DefaultClient.Do(req))
			raw := must(io.ReadAll(resp.Body))
			resp.Body.Close()
			var decoded graphql.Response
			if err := json.Unmarshal(raw, &decoded); err != nil {
				t.Fatalf("%s: %v: %s", c.name, err, raw)
			}
			want := must(json.Marshal(decoded))
			if c.name == "parse error" {
				want = must(json.Marshal(obj{"errors": decoded.Errors}))
			}
			if !bytes.Equal(raw, want) {
				t.Errorf("%s: got\n%s\nwant\n%s", c.name, raw, want)
			}
			wantType := "application/json"
			if c.accept != "" {
				wantType = c.accept
			}
			if got := resp.Header.Get("Content-Type"); got != wantType {
				t.Errorf("%s: Content-Type %q, want %q", c.name, got, wantType)
			}
			if c.name == "data and errors" && (len(decoded.Errors) != 1 || !bytes.Contains(decoded.Data, []byte(`"a":{"nodes":[{`))) {
				t.Errorf("%s: want data and one error, got %s", c.name, raw)
			}
		}
	})
}
