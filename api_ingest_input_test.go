package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The customers of ingestCustomers decoded directly (graph/ingest_input.go) give exactly what
// gqlgen's validation and unmarshalling give. Every request here goes to two servers, each on
// a database of its own, one decoding ingest inputs directly and one through gqlgen, in the same order: the
// answers must be the same status and bytes, and in the end both databases must hold the same
// data. Each request is sent twice (a load, then its replay). The direct server's debug log
// tells whether it decoded the request's customers itself, which each case states.

// ingestInputQuery is the mutation with everything its payload has but timestamps.
const ingestInputQuery = `mutation($customers: [CustomerInput!]!, $options: IngestOptions) {
  ingestCustomers(customers: $customers, options: $options) {
    __typename
    summary { customers { created updated unchanged deleted } accounts { created updated unchanged deleted }
      cards { created updated unchanged deleted } skippedCustomers dryRun }
    userErrors { path code message }
    customers { sourceCustomerId organizationId accounts { sourceAccountId cards { last4 networkIdentifier } } }
  }
}`

// ingestInputCase is one request: its body is built from a prefix that keeps the ids of the
// case apart from the others'.
type ingestInputCase struct {
	name    string
	role    string // admin (default), writer or reader of OA
	decoded bool   // whether the direct server decodes the customers itself
	body    func(p string) string
}

func ingestInputCases() []ingestInputCase {
	raw := func(v any) string { return string(must(json.Marshal(v))) }
	c := func(p, id string, joint ...string) obj { return jointCustomer(p, id, "OA", joint...) }
	// batch is three valid customers: a joint account, a parent, a string network identifier.
	batch := func(p string) []string {
		third := with(c(p, "3"), "sourceParentCustomerId", p+"1", "enrollmentEndDate", "2024-02-03T04:05:06.123456789+02:00",
			"redemptionEligibility", "NONE")
		a := third["accounts"].([]any)[0].(obj)
		third["accounts"] = []any{with(a, "cards", []any{with(card("A-"+p+"3", p+"3", "9876", "51234567"), "networkIdentifier", "5")})}
		return []string{raw(c(p, "1", "2")), raw(c(p, "2")), raw(third)}
	}
	// nine are nine valid customers, one more than the batch limit of the test.
	nine := func(p string) []string { return append(append(batch(p), batch(p+"x")...), batch(p+"y")...) }
	list := func(items []string) string { return "[" + strings.Join(items, ",") + "]" }
	request := func(query, vars string) string {
		return `{"query":` + jsonString(query) + `,"variables":` + vars + `}`
	}
	// standard is the mutation with the given customers and options.
	standard := func(customers []string, options string) string {
		return request(ingestInputQuery, `{"customers":`+list(customers)+`,"options":`+options+`}`)
	}
	plain := func(options string) func(p string) string {
		return func(p string) string { return standard(batch(p), options) }
	}
	// edit changes the second customer of the batch.
	edit := func(f func(o obj) string) func(p string) string {
		return func(p string) string {
			b := batch(p)
			b[1] = f(c(p, "2"))
			return standard(b, `null`)
		}
	}
	set := func(kv ...any) func(p string) string {
		return edit(func(o obj) string { return raw(with(o, kv...)) })
	}
	replace := func(old, new string) func(p string) string {
		return edit(func(o obj) string { return strings.Replace(raw(o), old, new, 1) })
	}
	inAccount := func(kv ...any) func(p string) string {
		return edit(func(o obj) string {
			a := o["accounts"].([]any)[0].(obj)
			return raw(with(o, "accounts", []any{with(a, kv...)}))
		})
	}
	inCard := func(kv ...any) func(p string) string {
		return edit(func(o obj) string {
			a := o["accounts"].([]any)[0].(obj)
			cd := a["cards"].([]any)[0].(obj)
			return raw(with(o, "accounts", []any{with(a, "cards", []any{with(cd, kv...)})}))
		})
	}
	// document runs a document of its own over the batch, in $c.
	document := func(query string) func(p string) string {
		return func(p string) string { return request(query, `{"c":`+list(batch(p))+`}`) }
	}
	const payload = `{ summary { customers { created updated unchanged } } userErrors { path code message } }`
	ok := true
	return []ingestInputCase{
		// Plain batches, with every option.
		{"valid batch", "", ok, plain(`null`)},
		{"skipInvalid", "", ok, plain(`{"skipInvalid": true}`)},
		{"dryRun", "", ok, plain(`{"dryRun": true}`)},
		{"skipInvalid dryRun", "", ok, plain(`{"skipInvalid": true, "dryRun": false}`)},
		{"options omitted", "", ok, func(p string) string { return request(ingestInputQuery, `{"customers":`+list(batch(p))+`}`) }},
		{"empty list", "", ok, func(p string) string { return standard(nil, `null`) }},
		{"one customer", "", ok, func(p string) string { return standard(batch(p)[1:2], `null`) }},
		// A list over the limit is refused without being decoded, by both servers, whatever its
		// customers (TestBatchLimitRefusedBeforeDecoding compares the answer with the store's).
		{"more than the batch limit", "", !ok, func(p string) string { return standard(nine(p), `null`) }},
		{"more than the batch limit, dryRun", "", !ok, func(p string) string { return standard(nine(p), `{"dryRun": true}`) }},
		{"more than the batch limit, a customer gqlgen refuses", "", !ok, func(p string) string {
			b := nine(p)
			b[1] = raw(with(c(p, "2"), "enrollmentOptInStatus", "SOMETIMES"))
			return standard(b, `null`)
		}},
		{"more than the batch limit, not customers beyond it", "", !ok, func(p string) string {
			return standard(append(nine(p)[:8], `null`, `1`, `"x"`), `null`)
		}},
		{"more than the batch limit, reader", "reader", !ok, func(p string) string { return standard(nine(p), `null`) }},
		// Rule problems: the store reports them, as user errors.
		{"rule problems", "", ok, func(p string) string {
			b := batch(p)
			b[0] = raw(with(c(p, "1"), "country", "XX", "postalCode", "!!", "alertOptInStatus", []any{}))
			b[1] = raw(with(c(p, "2"), "organizationId", nil, "sourceParentCustomerId", p+"2"))
			return standard(b, `null`)
		}},
		{"rule problems skipped", "", ok, func(p string) string {
			b := batch(p)
			b[2] = raw(with(c(p, "3"), "country", "XX"))
			return standard(b, `{"skipInvalid": true}`)
		}},
		{"card rules", "", ok, inCard("last4", "12a4", "networkIdentifier", "7")},
		{"numeric string", "", ok, inCard("networkIdentifier", "3", "iin", "312345")},
		{"conflicting joint account", "", ok, func(p string) string {
			a := c(p, "1", "2")
			b := with(c(p, "2"), "accounts", []any{with(a["accounts"].([]any)[0].(obj), "status", "FRAUD")})
			return standard([]string{raw(a), raw(b)}, `null`)
		}},
		{"control character", "", ok, set("postalCode", "1\u00012")},
		{"NUL", "", ok, set("organizationId", "O\u0000A")},
		{"invalid UTF-8", "", ok, replace(`"postalCode":"78753"`, "\"postalCode\":\"78\xff753\"")},
		{"unpaired surrogate", "", ok, replace(`"organizationId":"OA"`, `"organizationId":"OA\ud800"`)},
		{"escaped value", "", ok, replace(`"postalCode":"78753"`, `"postalCode":"78\u0037"`)},
		{"surrogate pair", "", ok, replace(`"postalCode":"78753"`, `"postalCode":"7\ud83d\ude008"`)},
		{"empty holders", "", ok, inAccount("sourceCustomerIds", []any{})},
		{"null lists", "", ok, set("alertOptInStatus", nil, "accounts", nil)},
		{"explicit nulls", "", ok, replace(`"country":"US"`, `"country":null,"sourceParentCustomerId":null,"enrollmentEndDate":null`)},
		// What InputDecoder does not take: the GraphQL layer answers it.
		{"unknown enum value", "", !ok, set("enrollmentOptInStatus", "SOMETIMES")},
		{"lower-case enum value", "", !ok, set("targetingIndicator", "target")},
		{"date without offset", "", !ok, set("enrollmentStartDate", "2023-01-01T08:00:00")},
		{"number for a string", "", !ok, set("postalCode", 78753)},
		{"boolean for a string", "", !ok, set("postalCode", true)},
		{"string for a list", "", !ok, set("alertOptInStatus", "ALL")},
		{"null in a list", "", !ok, inAccount("sourceCustomerIds", []any{nil})},
		{"unknown field", "", !ok, set("nickname", "x")},
		{"typename", "", !ok, set("__typename", "CustomerInput")},
		{"escaped key", "", !ok, replace(`"country"`, `"\u0063ountry"`)},
		{"duplicate key", "", !ok, replace(`"country":"US"`, `"country":"US","country":"FR"`)},
		{"fractional network", "", !ok, inCard("networkIdentifier", 4.5)},
		{"network word", "", !ok, inCard("networkIdentifier", "four")},
		{"network too large", "", !ok, inCard("networkIdentifier", 1e30)},
		{"object for a string", "", !ok, set("country", obj{"code": "US"})},
		{"list for an object", "", !ok, inAccount("cards", []any{[]any{}})},
		{"null customer", "", !ok, func(p string) string { return standard(append(batch(p), `null`), `null`) }},
		{"number among customers", "", !ok, func(p string) string { return standard(append(batch(p), `1`), `null`) }},
		{"a list among customers", "", !ok, func(p string) string { return standard(append(batch(p), `[]`), `null`) }},
		{"customers null", "", !ok, func(p string) string { return request(ingestInputQuery, `{"customers":null}`) }},
		{"customers an object", "", !ok, func(p string) string { return request(ingestInputQuery, `{"customers":`+batch(p)[0]+`}`) }},
		{"customers missing", "", !ok, func(p string) string { return request(ingestInputQuery, `{}`) }},
		{"variables null", "", !ok, func(p string) string { return request(ingestInputQuery, `null`) }},
		{"customers twice", "", !ok, func(p string) string {
			return request(ingestInputQuery, `{"customers":[],"customers":`+list(batch(p))+`}`)
		}},
		{"options invalid", "", ok, plain(`{"skipInvalid": "yes"}`)},
		{"options unknown field", "", ok, plain(`{"skipInvalid": true, "fast": true}`)},
		// The request and the document in other shapes.
		{"variables before the query", "", ok, func(p string) string {
			return `{"variables":{"customers":` + list(batch(p)) + `},"operationName":null,"query":` + jsonString(ingestInputQuery) + `}`
		}},
		{"extensions and white space", "", ok, func(p string) string {
			return "\n { \"extensions\" : {\"x\": [1]} ,\t\"query\":" + jsonString(ingestInputQuery) +
				", \"variables\" : { \"other\": [1,2], \"customers\" :\n" + list(batch(p)) + " } }\n"
		}},
		{"a request key in other case", "", !ok, func(p string) string {
			return `{"query":` + jsonString(ingestInputQuery) + `,"Variables":{"customers":` + list(batch(p)) + `}}`
		}},
		{"an unknown request key", "", !ok, func(p string) string {
			return `{"query":` + jsonString(ingestInputQuery) + `,"variables":{"customers":` + list(batch(p)) + `},"x":1}`
		}},
		{"an escaped variable name", "", ok, func(p string) string {
			return request(ingestInputQuery, `{"\u0063ustomers":`+list(batch(p))+`}`)
		}},
		{"body not closed", "", !ok, func(p string) string { return strings.TrimSuffix(plain(`null`)(p), "}") }},
		{"data after the body", "", !ok, func(p string) string { return plain(`null`)(p) + ` {}` }},
		{"query not a string", "", !ok, func(p string) string { return `{"query":1,"variables":{"c":` + list(batch(p)) + `}}` }},
		{"alias", "", ok, document(`mutation($c: [CustomerInput!]!) { loaded: ingestCustomers(customers: $c) ` + payload + ` }`)},
		{"nullable list", "", !ok, document(`mutation($c: [CustomerInput!]) { ingestCustomers(customers: $c) ` + payload + ` }`)},
		{"named operation among others", "", ok, func(p string) string {
			q := `query Q { customers(first: 1) { totalCount } } mutation M($c: [CustomerInput!]!) { ingestCustomers(customers: $c) ` +
				payload + ` } mutation N { __typename }`
			return `{"query":` + jsonString(q) + `,"operationName":"M","variables":{"c":` + list(batch(p)) + `}}`
		}},
		{"another operation chosen", "", !ok, func(p string) string {
			q := `query Q { customers(first: 1) { totalCount } } mutation M($c: [CustomerInput!]!) { ingestCustomers(customers: $c) ` +
				payload + ` }`
			return `{"query":` + jsonString(q) + `,"operationName":"Q","variables":{"c":` + list(batch(p)) + `}}`
		}},
		{"no operation name among several", "", !ok, func(p string) string {
			q := `mutation A($c: [CustomerInput!]!) { ingestCustomers(customers: $c) ` + payload + ` } mutation B { __typename }`
			return request(q, `{"c":`+list(batch(p))+`}`)
		}},
		{"an unknown operation name", "", !ok, func(p string) string {
			return `{"query":` + jsonString(ingestInputQuery) + `,"operationName":"X","variables":{"customers":` + list(batch(p)) + `}}`
		}},
		{"the same variable in two operations", "", !ok, func(p string) string {
			q := `mutation A($c: [CustomerInput!]!) { ingestCustomers(customers: $c) ` + payload + ` }
				mutation B($c: [CustomerInput!]!) { ingestCustomers(customers: $c) { userErrors { path } } }`
			return `{"query":` + jsonString(q) + `,"operationName":"A","variables":{"c":` + list(batch(p)) + `}}`
		}},
		{"inline list", "", !ok, func(p string) string {
			q := `mutation { ingestCustomers(customers: [{sourceCustomerId: "` + p + `1", organizationId: "OA", country: "US",
				accounts: [{sourceAccountId: "A-` + p + `1", sourceCustomerIds: ["` + p + `1"], status: OPEN, type: DDA}]}]) ` + payload + ` }`
			return request(q, `{"c":`+list(batch(p))+`}`)
		}},
		{"inline list beside the variable", "", ok, func(p string) string {
			q := `mutation($c: [CustomerInput!]!) { a: ingestCustomers(customers: $c) ` + payload + `
				b: ingestCustomers(customers: [{sourceCustomerId: "` + p + `9", organizationId: "OA", country: "FR"}]) ` + payload + ` }`
			return request(q, `{"c":`+list(batch(p))+`}`)
		}},
		{"variable used twice", "", !ok, document(`mutation($c: [CustomerInput!]!) { a: ingestCustomers(customers: $c) ` + payload +
			` b: ingestCustomers(customers: $c, options: {dryRun: true}) ` + payload + ` }`)},
		{"a list of the variable", "", !ok, document(`mutation($c: CustomerInput!) { ingestCustomers(customers: [$c]) ` + payload + ` }`)},
		{"variable of nullable customers", "", !ok, document(`mutation($c: [CustomerInput]!) { ingestCustomers(customers: $c) ` + payload + ` }`)},
		{"variable of another type", "", !ok, document(`mutation($c: [String!]!) { ingestCustomers(customers: $c) ` + payload + ` }`)},
		{"variable with a default", "", !ok, document(`mutation($c: [CustomerInput!] = []) { ingestCustomers(customers: $c) ` + payload + ` }`)},
		{"fragment", "", !ok, document(`mutation($c: [CustomerInput!]!) { ...F } fragment F on Mutation { ingestCustomers(customers: $c) ` +
			payload + ` }`)},
		{"inline fragment", "", !ok, document(`mutation($c: [CustomerInput!]!) { ... on Mutation { ingestCustomers(customers: $c) ` +
			payload + ` } }`)},
		{"fragments in the payload", "", ok, document(`mutation($c: [CustomerInput!]!) { ingestCustomers(customers: $c) { ...P
			... on IngestCustomersPayload { customers { ...C } } } }
			fragment P on IngestCustomersPayload { summary { accounts { created } cards { deleted } } userErrors { code } }
			fragment C on Customer { sourceCustomerId accounts { holders { sourceCustomerId } } }`)},
		{"skipped field", "", ok, document(`mutation($c: [CustomerInput!]!) { __typename ingestCustomers(customers: $c) @skip(if: true) ` +
			payload + ` }`)},
		{"variable in a directive too", "", !ok, document(`mutation($c: [CustomerInput!]!) { ingestCustomers(customers: $c) ` +
			payload + ` __typename @include(if: $c) }`)},
		{"unknown field selected", "", ok, document(`mutation($c: [CustomerInput!]!) { ingestCustomers(customers: $c) { nope } }`)},
		{"document does not parse", "", !ok, document(`mutation($c: [CustomerInput!]!) { ingestCustomers(customers: $c) {`)},
		{"a query", "", !ok, document(`query($c: [CustomerInput!]!) { ingestCustomers(customers: $c) ` + payload + ` }`)},
		// Callers other than an admin.
		{"reader", "reader", ok, plain(`null`)},
		{"reader, fallback", "reader", !ok, set("enrollmentOptInStatus", "SOMETIMES")},
		{"writer of the organization", "writer", ok, plain(`null`)},
		{"writer, other organization", "writer", ok, func(p string) string {
			b := batch(p)
			b[1] = raw(with(c(p, "2"), "organizationId", "OB"))
			return standard(b, `{"skipInvalid": true}`)
		}},
	}
}

func TestDirectIngestInputMatchesGenerated(t *testing.T) {
	tweak := func(c *config) { withAuth(c); c.maxIngestBatch = 8 }
	forEachStoreWith(t, tweak, func(t *testing.T, direct *env) {
		generated := newEnv(t, direct.kind, func(c *config) { tweak(c); c.generatedIngest = true })
		tokens := map[string]string{"": token(t, "admin"), "reader": token(t, "reader", "OA"), "writer": token(t, "writer", "OA")}
		for i, tc := range ingestInputCases() {
			body := tc.body(fmt.Sprintf("T%02d-", i))
			for _, run := range []string{"load", "replay"} {
				direct.logs.Reset()
				generated.logs.Reset()
				wantStatus, want := postRaw(t, generated.url, tokens[tc.role], body)
				gotStatus, got := postRaw(t, direct.url, tokens[tc.role], body)
				if gotStatus != wantStatus || !bytes.Equal(got, want) {
					t.Fatalf("%s (%s): the direct server answers\n %d %s\nthe generated one\n %d %s", tc.name, run, gotStatus, got, wantStatus, want)
				}
				if decoded := strings.Contains(direct.logs.String(), `msg="ingest input decoded"`); decoded != tc.decoded {
					t.Fatalf("%s (%s): decoded directly: %v, want %v; answer %s", tc.name, run, decoded, tc.decoded, got)
				}
				if strings.Contains(generated.logs.String(), `msg="ingest input decoded"`) {
					t.Fatalf("%s: decoded directly with generatedIngest", tc.name)
				}
				const over = `msg="ingest input over the batch limit"`
				if a, b := strings.Contains(direct.logs.String(), over), strings.Contains(generated.logs.String(), over); a != b || a != strings.HasPrefix(tc.name, "more than the batch limit") {
					t.Fatalf("%s: refused over the batch limit by the direct server: %v, by the generated one: %v", tc.name, a, b)
				}
			}
		}
		// An automatic persisted query: the hash alone is not decoded directly, the text with
		// it is.
		q := `mutation($c: [CustomerInput!]!) { ingestCustomers(customers: $c) { summary { customers { created updated unchanged } } } }`
		sum := sha256.Sum256([]byte(q))
		ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hex.EncodeToString(sum[:]) + `"}}`
		vars := `{"c":[` + string(must(json.Marshal(customer("APQ1", "OA")))) + `]}`
		for _, tc := range []struct {
			body    string
			decoded bool
		}{
			{`{"extensions":` + ext + `,"variables":` + vars + `}`, false},
			{`{"query":` + jsonString(q) + `,"extensions":` + ext + `,"variables":` + vars + `}`, true},
			{`{"extensions":` + ext + `,"variables":` + vars + `}`, false},
		} {
			direct.logs.Reset()
			wantStatus, want := postRaw(t, generated.url, tokens[""], tc.body)
			gotStatus, got := postRaw(t, direct.url, tokens[""], tc.body)
			if gotStatus != wantStatus || !bytes.Equal(got, want) {
				t.Fatalf("persisted %s: the direct server answers\n %d %s\nthe generated one\n %d %s", tc.body, gotStatus, got, wantStatus, want)
			}
			if decoded := strings.Contains(direct.logs.String(), `msg="ingest input decoded"`); decoded != tc.decoded {
				t.Fatalf("persisted %s: decoded directly: %v, want %v", tc.body, decoded, tc.decoded)
			}
		}
		direct.token, generated.token = tokens[""], tokens[""]
		if a, b := storedState(t, generated), storedState(t, direct); a != b {
			t.Errorf("stored data differ:\n generated %s\n direct    %s", a, b)
		}
		if !strings.Contains(storedState(t, direct), "T00-3") {
			t.Error("the valid batch was not stored")
		}
	})
}
