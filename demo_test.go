package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"regexp"
	"testing"
)

// The README's card look-up finds its card in the -demo portfolio, on both stores: the
// examples work on a fresh install filled with `go run . -demo`.
func TestDemoHasTheREADMECard(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	// The body of the README's curl command that looks a card up: -d '{"query": "{ cards(...`.
	m := regexp.MustCompile(`-d '(\{"query": "\{ cards\(filter: [^']*)'`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no card look-up command")
	}
	var body struct{ Query string }
	if err := json.Unmarshal(m[1], &body); err != nil {
		t.Fatalf("the README's look-up is not JSON: %v\n%s", err, m[1])
	}
	forEachStore(t, func(t *testing.T, e *env) {
		if err := fillDemo(context.Background(), e.store, e.cfg, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		if n := e.customerCount(t); n != 1000 {
			t.Fatalf("-demo stored %d customers, want 1,000", n)
		}
		var out struct {
			Cards struct {
				Nodes []struct {
					Last4, Iin string
					Customer   struct{ SourceCustomerID string }
				}
			}
		}
		e.query(t, body.Query, nil, &out)
		if n := out.Cards.Nodes; len(n) != 1 || n[0].Last4 != "2345" || n[0].Iin != "123456" || n[0].Customer.SourceCustomerID != "DEMO-C000001" {
			t.Errorf("the README's look-up after -demo: got %+v, want the one card 2345/123456 of DEMO-C000001", n)
		}
	})
}
