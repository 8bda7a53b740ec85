package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/portfolio-graph/portfolio-graph/middleware"
)

// The direct executor of queries (graph/direct.go) must answer exactly as gqlgen's generated
// executor does. Every query here goes to two servers on the same database, one with
// the direct executor and one without, and the two answers must be the same bytes with the same
// status. The access log tells which executor ran, so each query also states whether the
// direct executor must have answered it, fallen back, or left it alone.

// directCases are queries over every field the direct executor writes, in every shape a
// selection can take, and the queries it must leave to gqlgen.
var directCases = []struct {
	name, query, vars string
	executor          string // direct, fallback or generated
}{
	{"every customer field", `{ customer(sourceCustomerId: "A1") { __typename id sourceCustomerId sourceParentCustomerId
		organizationId postalCode country customerCreationDate enrollmentStartDate enrollmentEndDate enrollmentOptInStatus
		alertOptInStatus targetingIndicator redemptionEligibility createdAt updatedAt } }`, ``, "direct"},
	{"every account field", `{ account(sourceAccountId: "J") { __typename id sourceAccountId sourceCustomerIds
		primarySourceCustomerId status type sourcePortfolioId accountOpenDate accountCloseDate createdAt updatedAt
		holders { sourceCustomerId } primaryCustomer { sourceCustomerId } cards { last4 } } }`, ``, "direct"},
	{"every card field", `{ card(sourceAccountId: "J", sourceCustomerId: "B1", last4: "2222") { __typename id
		sourceAccountId sourceCustomerId last4 iin cardType status networkIdentifier network openDate closeDate createdAt
		updatedAt account { sourceAccountId } customer { sourceCustomerId } } }`, ``, "direct"},
	{"connections with edges, page info and counts", `query($first: Int, $after: String) {
		customers(first: $first, after: $after, orderBy: {field: SOURCE_CUSTOMER_ID, direction: DESC}) {
			__typename totalCount pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
			edges { __typename cursor node { sourceCustomerId } } nodes { id } }
		accounts(last: 2) { totalCount pageInfo { hasPreviousPage startCursor } edges { cursor node { sourceAccountId } } nodes { __typename } }
		cards(filter: {iin: "412345"}) { totalCount edges { cursor node { last4 } } nodes { sourceCustomerId last4 } } }`,
		`{"first": 2}`, "direct"},
	{"the benchmark's nested page", `query($org: String!) { customers(filter: {organizationIds: [$org]}, first: 50) {
		nodes { sourceCustomerId alertOptInStatus accounts { sourceAccountId sourceCustomerIds
		cards { sourceCustomerId last4 openDate closeDate } } } pageInfo { hasNextPage endCursor } } }`, `{"org": "OA"}`, "direct"},
	{"deep nesting through holders, parents and children", `{ customers { nodes { sourceCustomerId
		parent { sourceCustomerId children { totalCount nodes { sourceCustomerId } } }
		children(first: 1) { pageInfo { hasNextPage endCursor } nodes { sourceCustomerId } }
		accounts { holders { sourceCustomerId cards { last4 account { primaryCustomer { sourceCustomerId } } } } }
		cards { last4 customer { sourceCustomerId } } } } }`, ``, "direct"},
	{"aliases, repeated fields and fragments", `query { first: customer(sourceCustomerId: "A1") { ...C id: sourceCustomerId
		accounts { sourceAccountId } accounts { status cards { last4 } } ... on Customer { country } ... on Node { nodeId: id } }
		second: customer(sourceCustomerId: "B1") { ...C } none: customer(sourceCustomerId: "nobody") { ...C } }
		fragment C on Customer { postalCode a: accounts(filter: {statuses: [OPEN]}) { sourceAccountId } }`, ``, "direct"},
	{"skip and include", `query($yes: Boolean!, $no: Boolean!) { customer(sourceCustomerId: "A1") {
		sourceCustomerId @skip(if: $yes) country @include(if: $yes) postalCode @include(if: $no)
		accounts @skip(if: $no) { sourceAccountId } } }`, `{"yes": true, "no": false}`, "direct"},
	{"filters with arguments on nested lists", `{ customer(sourceCustomerId: "A1") {
		accounts(filter: {types: [DDA]}) { cards(filter: {last4: "1111"}) { last4 } }
		cards(filter: {statuses: [OPEN]}) { last4 } } }`, ``, "direct"},
	{"text that needs escaping", `{ customer(sourceCustomerId: "Q\"<&>\\\u2028x") { sourceCustomerId postalCode } }`, ``, "direct"},
	{"__typename at the root", `{ __typename customer(sourceCustomerId: "A1") { __typename } }`, ``, "direct"},
	{"a bad cursor: the error comes from gqlgen", `{ customers(after: "bogus") { nodes { sourceCustomerId } } }`, ``, "fallback"},
	{"a bad argument value: the error comes from gqlgen", `query($n: Int) { customers(first: $n) { nodes { sourceCustomerId } } }`,
		`{"n": 100000}`, "fallback"},
	{"node is not direct", `{ node(id: "Q3VzdG9tZXI6QTE") { id ... on Customer { sourceCustomerId } } }`, ``, "generated"},
	{"introspection is not direct", `{ __type(name: "Customer") { name } }`, ``, "generated"},
	{"portfolioStats is not direct", `{ portfolioStats { customers } customer(sourceCustomerId: "A1") { id } }`, ``, "generated"},
}

func TestDirectExecutorMatchesGenerated(t *testing.T) {
	forEachStoreWith(t, withAuth, func(t *testing.T, e *env) {
		directFixture(t, e)
		generated := e.sibling(t, func(c *config) { c.generatedReads = true })
		for _, role := range []struct{ name, token string }{
			{"admin", token(t, "admin")}, {"reader of OA", token(t, "reader", "OA")},
		} {
			for _, tc := range directCases {
				t.Run(role.name+"/"+tc.name, func(t *testing.T) {
					vars := tc.vars
					if vars == "" {
						vars = "{}"
					}
					body := `{"query":` + jsonString(tc.query) + `,"variables":` + vars + `}`
					e.logs.Reset()
					wantStatus, want := postRaw(t, generated, role.token, body)
					gotStatus, got := postRaw(t, e.url, role.token, body)
					if gotStatus != wantStatus || !bytes.Equal(got, want) {
						t.Fatalf("direct answer differs from the generated executor's:\n direct    %d %s\n generated %d %s",
							gotStatus, got, wantStatus, want)
					}
					if tc.executor != "direct" && tc.executor != "generated" && !bytes.Contains(want, []byte(`"errors"`)) {
						t.Fatalf("want an error in %s", want)
					}
					if ran := executorsLogged(e.logs.String()); ran != "generated "+tc.executor {
						t.Fatalf("executors logged (generated server, then direct server): %q, want %q", ran, "generated "+tc.executor)
					}
				})
			}
		}
	})
}

// directFixture is the data the executors are compared on: twoOrgs; a customer whose id needs
// escaping; and C1 of OA, child of B1 of OB, whose optional fields are all set and whose
// closed savings account K it shares with B2, with a closed Mastercard of C1 (its network
// identifier sent as a string) and a prepaid Discover card of B2.
func directFixture(t testing.TB, e *env) {
	twoOrgs(t, e)
	k := with(account("K", []any{"C1", "B2"},
		with(card("K", "C1", "5555", "51234567"), "cardType", "CREDIT", "status", "CLOSED",
			"closeDate", "2024-05-01T12:00:00Z", "networkIdentifier", "5"),
		with(card("K", "B2", "6666", "601100"), "cardType", "PREPAID", "networkIdentifier", 6)),
		"status", "CLOSED", "accountCloseDate", "2024-06-01T00:00:00Z", "type", "SAV", "sourcePortfolioId", "P-2")
	e.mustIngest(t, with(customer(`Q"<&>\`+"\u2028x", "OA"), "postalCode", "1-2 3"),
		with(customer("C1", "OA"), "sourceParentCustomerId", "B1", "country", "CA", "postalCode", "H2X-1Y4",
			"customerCreationDate", "2019-03-04T05:06:07.123+02:00", "enrollmentStartDate", "2024-02-29",
			"enrollmentEndDate", "2030-06-30", "enrollmentOptInStatus", "INACTIVE", "alertOptInStatus", []any{"NEW", "EXPIRING"},
			"targetingIndicator", "DO_NOT_TARGET", "redemptionEligibility", "NONE", "accounts", []any{k}))
}

// sibling starts a second server on e's database with a changed configuration; its access
// log goes to e's.
func (e *env) sibling(t testing.TB, tweak func(*config)) string {
	t.Helper()
	cfg := *e.cfg
	tweak(&cfg)
	log, err := newLogger("debug", cfg.logFormat, &lockedWriter{w: e.logs})
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := newVerifier(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newDrainingHandler(e.store, &cfg, verifier, log, true, &middleware.Drain{}, e.obs))
	t.Cleanup(srv.Close)
	return srv.URL
}

// postRaw posts a request body to base's /query and returns the status and the body as sent.
func postRaw(t *testing.T, base, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/query", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

var executorField = regexp.MustCompile(`path=/query .*? executor=(\w+)`)

// executorsLogged lists, in order, the executor of each /query request in the access log.
func executorsLogged(logs string) string {
	var out []string
	for _, m := range executorField.FindAllStringSubmatch(logs, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, " ")
}

// An answer larger than the pooled buffers (1 MiB) is answered whole, and so is the request
// after it: a grown buffer is left to the garbage collector, never handed back empty.
func TestDirectExecutorLargeAnswers(t *testing.T) {
	forEachStoreWith(t, func(c *config) { c.maxComplexity = 1 << 20 }, func(t *testing.T, e *env) {
		batch := many(500, "O1")
		e.mustIngest(t, batch...)
		page := `customers(first: 500) { nodes { ` + benchCustomerFields + ` accounts { ` + benchAccountFields +
			` cards { ` + benchCardFields + ` } } } }`
		big := `{ a: ` + page + ` b: ` + page + ` c: ` + page + ` }`
		generated := e.sibling(t, func(c *config) { c.generatedReads = true })
		body := func(q string) string { return `{"query":` + jsonString(q) + `}` }
		for i, q := range []string{big, big, `{ customers(first: 1) { nodes { sourceCustomerId } } }`} {
			wantStatus, want := postRaw(t, generated, "", body(q))
			gotStatus, got := postRaw(t, e.url, "", body(q))
			if i == 0 && len(want) <= 1<<20 {
				t.Fatalf("the answer is %d bytes, want more than 1 MiB", len(want))
			}
			if gotStatus != wantStatus || !bytes.Equal(got, want) {
				t.Fatalf("request %d: direct answer (%d, %d bytes) differs from the generated one (%d, %d bytes): %.200s",
					i, gotStatus, len(got), wantStatus, len(want), got)
			}
		}
	})
}

// A document's collected fields are kept with it for the requests that send it again, unless
// a directive reads a variable: the same text with other values of @include and @skip, and
// a fragment spread under them, answers as the generated executor does every time.
func TestDirectExecutorDocumentSentAgain(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, many(3, "O1")...)
		generated := e.sibling(t, func(c *config) { c.generatedReads = true })
		docs := []string{
			`query($a: Boolean!, $b: Boolean!) { customers(first: 2) { nodes { sourceCustomerId
				postalCode @include(if: $a) country @skip(if: $b) ...F @include(if: $b)
				accounts @skip(if: $a) { sourceAccountId } } } }
			fragment F on Customer { organizationId }`,
			`query($a: Boolean!) { customers(first: 2) { nodes { sourceCustomerId postalCode @include(if: true)
				country @skip(if: true) ... on Customer @include(if: $a) { organizationId } } } }`,
			`query($a: Boolean!, $b: Boolean!) { customers(first: 2) { nodes { sourceCustomerId postalCode @include(if: false) } } }`,
			// Each place a directive can read a variable, alone: a fragment's body, a field.
			`query($a: Boolean!) { customers(first: 2) { nodes { sourceCustomerId ...G } } }
			fragment G on Customer { postalCode @include(if: $a) }`,
			`query($a: Boolean!) { customers(first: 2) { nodes { sourceCustomerId postalCode @skip(if: $a) } } }`,
		}
		for _, doc := range docs {
			for _, v := range []obj{{"a": true, "b": false}, {"a": false, "b": true}, {"a": true, "b": true}, {"a": true, "b": false}} {
				if _, ok := v["b"]; ok && !strings.Contains(doc, "$b") {
					delete(v, "b")
				}
				body := jsonString(obj{"query": doc, "variables": v})
				wantStatus, want := postRaw(t, generated, "", body)
				gotStatus, got := postRaw(t, e.url, "", body)
				if gotStatus != wantStatus || !bytes.Equal(got, want) {
					t.Errorf("%v: direct answer %d %s, generated %d %s\n%s", v, gotStatus, got, wantStatus, want, doc)
				}
			}
		}
	})
}
