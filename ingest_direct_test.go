package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/portfolio-graph/portfolio-graph/feed"
)

// The ingest command's direct path (ingest_direct.go) gives exactly what the mutation gives:
// the same counts, the same problems at the same paths with the same messages, and the same
// stored data, for valid batches, batches with rule problems (which it takes itself) and
// batches with values the schema's types cannot take (which it hands to the mutation).
func TestDirectIngestMatchesMutation(t *testing.T) {
	type batchCase struct {
		name string
		// direct tells whether the direct path decodes the batch itself.
		direct    bool
		customers func(p string) []string
	}
	raw := func(v any) string { return string(must(json.Marshal(v))) }
	c := func(p, id string, joint ...string) obj { return jointCustomer(p, id, "50001", joint...) }
	edit := func(p string, f func(o obj) string) []string {
		return []string{raw(c(p, "1")), f(c(p, "2")), raw(c(p, "3"))}
	}
	set := func(kv ...any) func(p string) []string {
		return func(p string) []string { return edit(p, func(o obj) string { return raw(with(o, kv...)) }) }
	}
	replace := func(old, new string) func(p string) []string {
		return func(p string) []string {
			return edit(p, func(o obj) string { return strings.Replace(raw(o), old, new, 1) })
		}
	}
	inAccount := func(kv ...any) func(p string) []string {
		return func(p string) []string {
			return edit(p, func(o obj) string {
				a := o["accounts"].([]any)[0].(obj)
				return raw(with(o, "accounts", []any{with(a, kv...)}))
			})
		}
	}
	inCard := func(kv ...any) func(p string) []string {
		return func(p string) []string {
			return edit(p, func(o obj) string {
				a := o["accounts"].([]any)[0].(obj)
				cd := a["cards"].([]any)[0].(obj)
				return raw(with(o, "accounts", []any{with(a, "cards", []any{with(cd, kv...)})}))
			})
		}
	}
	cases := []batchCase{
		{"valid", true, func(p string) []string {
			return []string{raw(c(p, "1", "2")), raw(c(p, "2")), raw(with(c(p, "3"), "sourceParentCustomerId", p+"1",
				"enrollmentEndDate", "2024-02-03T04:05:06.123456789+02:00", "redemptionEligibility", "NONE"))}
		}},
		{"rules", true, func(p string) []string {
			return []string{
				raw(with(c(p, "1"), "country", "XX", "postalCode", "!!", "alertOptInStatus", []any{})),
				raw(with(c(p, "2"), "organizationId", nil, "sourceParentCustomerId", p+"2")),
				raw(c(p, "1")),
				raw(with(c(p, "4"), "accounts", []any{})),
			}
		}},
		{"card rules", true, inCard("last4", "12a4", "networkIdentifier", "7")},
		{"numeric string", true, inCard("networkIdentifier", "3", "iin", "312345")},
		{"conflicting joint account", true, func(p string) []string {
			a := c(p, "1", "2")
			b := with(c(p, "2"), "accounts", []any{with(a["accounts"].([]any)[0].(obj), "status", "FRAUD")})
			return []string{raw(a), raw(b)}
		}},
		{"control character", true, set("postalCode", "1\u00012")},
		{"NUL", true, set("organizationId", "50\u0000001")},
		{"invalid UTF-8", true, replace(`"postalCode":"78753"`, "\"postalCode\":\"78\xff753\"")},
		{"unpaired surrogate", true, replace(`"organizationId":"50001"`, `"organizationId":"50001\ud800"`)},
		{"escaped value", true, replace(`"postalCode":"78753"`, `"postalCode":"78\u0037"`)},
		{"empty holders", true, inAccount("sourceCustomerIds", []any{})},
		{"null lists", true, set("alertOptInStatus", nil, "accounts", nil)},
		{"unknown enum value", false, set("enrollmentOptInStatus", "SOMETIMES")},
		{"lower-case enum value", false, set("targetingIndicator", "target")},
		{"date without offset", false, set("enrollmentStartDate", "2023-01-01T08:00:00")},
		{"number for a string", false, set("postalCode", 78753)},
		{"string for a list", false, set("alertOptInStatus", "ALL")},
		{"null in a list", false, inAccount("sourceCustomerIds", []any{nil})},
		{"unknown field", false, set("nickname", "x")},
		{"typename", false, set("__typename", "CustomerInput")},
		{"escaped key", false, replace(`"country"`, `"\u0063ountry"`)},
		{"duplicate key", false, replace(`"country":"US"`, `"country":"US","country":"FR"`)},
		{"fractional network", false, inCard("networkIdentifier", 4.5)},
		{"network word", false, inCard("networkIdentifier", "four")},
		{"object for a string", false, set("country", obj{"code": "US"})},
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	same := func(o feed.Options) feed.Options { return o }
	forEachStore(t, func(t *testing.T, direct *env) {
		viaGraphQL, asRead := newEnv(t, direct.kind, nil), newEnv(t, direct.kind, nil)
		asReadIngest := ingester(asRead.store, asRead.cfg, quiet)
		var decodedMu sync.Mutex // batches run in the loader's goroutines
		var decodedAsRead []bool // per batch sent, whether it came decoded
		// The mutation; the direct path decoding each batch; the direct path with the customers
		// decoded as the file is read, as the ingest command loads (loadOptions).
		loaders := []struct {
			name   string
			e      *env
			ingest feed.IngestFunc
			opts   func(feed.Options) feed.Options
		}{
			{"mutation", viaGraphQL, graphIngester(viaGraphQL.store, viaGraphQL.cfg, quiet), same},
			{"direct", direct, ingester(direct.store, direct.cfg, quiet), same},
			{"decoded as read", asRead, func(ctx context.Context, customers []json.RawMessage, opt feed.BatchOptions) (*feed.BatchResult, error) {
				if !opt.DryRun {
					decodedMu.Lock()
					decodedAsRead = append(decodedAsRead, opt.Inputs != nil)
					decodedMu.Unlock()
				}
				return asReadIngest(ctx, customers, opt)
			}, loadOptions},
		}
		for i, bc := range cases {
			p := fmt.Sprintf("T%02d-", i)
			lines := bc.customers(p)
			msgs := make([]json.RawMessage, len(lines))
			for j, l := range lines {
				msgs[j] = json.RawMessage(l)
			}
			if _, ok := decodeBatch(msgs); ok != bc.direct {
				t.Fatalf("%s: the direct path decodes the batch: %v, want %v", bc.name, ok, bc.direct)
			}
			// A load, a replay, a load skipping invalid customers and its replay.
			for _, opt := range []feed.Options{{}, {}, {SkipInvalid: true}, {SkipInvalid: true}} {
				decodedAsRead = nil
				var totals [3]*feed.Totals
				for k, l := range loaders {
					var err error
					totals[k], err = feed.Load(context.Background(), strings.NewReader(strings.Join(lines, "\n")), l.ingest, l.opts(opt))
					if err != nil {
						t.Fatalf("%s: load (%s): %v", bc.name, l.name, err)
					}
				}
				if len(decodedAsRead) == 0 || decodedAsRead[0] != bc.direct {
					t.Errorf("%s: the batch came to the ingest decoded as read: %v, want %v", bc.name, decodedAsRead, bc.direct)
				}
				for k := 1; k < len(loaders); k++ {
					if !reflect.DeepEqual(totals[0], totals[k]) {
						t.Errorf("%s %+v:\n mutation %+v\n %s %+v", bc.name, opt, totals[0], loaders[k].name, totals[k])
					}
				}
			}
		}
		want := storedState(t, viaGraphQL)
		for _, l := range loaders[1:] {
			if got := storedState(t, l.e); got != want {
				t.Errorf("stored data differ:\n mutation %s\n %s %s", want, l.name, got)
			}
		}
	})
}

// storedState is every stored customer, account and card, without timestamps, as JSON.
func storedState(t *testing.T, e *env) string {
	t.Helper()
	const q = `{
  customers(first: 500) { nodes { sourceCustomerId sourceParentCustomerId organizationId postalCode country
    customerCreationDate enrollmentStartDate enrollmentEndDate enrollmentOptInStatus alertOptInStatus
    targetingIndicator redemptionEligibility } }
  accounts(first: 500) { nodes { sourceAccountId sourceCustomerIds primarySourceCustomerId status type
    sourcePortfolioId accountOpenDate accountCloseDate holders { sourceCustomerId } } }
  cards(first: 500) { nodes { sourceAccountId sourceCustomerId last4 iin cardType status networkIdentifier
    openDate closeDate } } }`
	var out json.RawMessage
	e.query(t, q, nil, &out)
	// The totals (customer_counts, kept by triggers) agree with the customers listed, in all
	// and per organization.
	var listed struct {
		Customers struct {
			Nodes []struct{ OrganizationID string }
		}
	}
	must(0, json.Unmarshal(out, &listed))
	perOrg := map[string]int{}
	for _, c := range listed.Customers.Nodes {
		perOrg[c.OrganizationID]++
	}
	total := func(filter string) int {
		var n struct{ Customers struct{ TotalCount int } }
		e.query(t, `{ customers`+filter+` { totalCount } }`, nil, &n)
		return n.Customers.TotalCount
	}
	if got := total(""); got != len(listed.Customers.Nodes) {
		t.Errorf("totalCount %d, %d customers stored", got, len(listed.Customers.Nodes))
	}
	for org, n := range perOrg {
		if got := total(`(filter: {organizationIds: [` + jsonString(org) + `]})`); got != n {
			t.Errorf("totalCount of %s: %d, %d customers stored", org, got, n)
		}
	}
	return string(out)
}
