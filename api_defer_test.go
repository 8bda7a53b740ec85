package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// gqlgen declares @defer, and this endpoint has no streaming transport: a deferred fragment is
// answered inline, in one complete answer that every client reads, never as a null in a
// non-null field with "hasNext".
func TestDeferredFragmentsAreAnsweredInline(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, customer("C1", "O1"))
		plain := `{ customer(sourceCustomerId: "C1") { sourceCustomerId accounts { sourceAccountId cards { last4 } } } }`
		want := e.post(t, plain, nil)
		if len(want.Errors) > 0 || !strings.Contains(string(want.Data), `"cards":[{`) {
			t.Fatalf("the plain query: %s %+v", want.Data, want.Errors)
		}
		for name, q := range map[string]string{
			"inline fragment":  `{ customer(sourceCustomerId: "C1") { sourceCustomerId ... @defer { accounts { sourceAccountId cards { last4 } } } } }`,
			"labelled, nested": `{ customer(sourceCustomerId: "C1") { sourceCustomerId ... @defer(label: "a") { accounts { sourceAccountId ... @defer { cards { last4 } } } } } }`,
			"fragment spread":  `query Q { customer(sourceCustomerId: "C1") { sourceCustomerId ...Acc @defer } } fragment Acc on Customer { accounts { sourceAccountId cards { last4 } } }`,
		} {
			for _, accept := range []string{"application/json", "application/graphql-response+json", "multipart/mixed; deferSpec=20220824, application/json"} {
				body, _ := json.Marshal(map[string]any{"query": q})
				req, _ := http.NewRequest(http.MethodPost, e.url+"/query", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", accept)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var got struct {
					Data    json.RawMessage `json:"data"`
					Errors  []gqlError      `json:"errors"`
					HasNext *bool           `json:"hasNext"`
				}
				if err := json.Unmarshal(raw, &got); err != nil || resp.StatusCode != 200 {
					t.Errorf("%s, Accept %q: %d %s", name, accept, resp.StatusCode, raw)
					continue
				}
				if len(got.Errors) > 0 || got.HasNext != nil || string(got.Data) != string(want.Data) {
					t.Errorf("%s, Accept %q: got %s, want the whole answer at once: %s", name, accept, raw, want.Data)
				}
			}
		}
	})
}
