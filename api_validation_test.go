package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// Rules beyond types are user errors at the exact input path, and a batch with any problem
// writes nothing. (Each rule is covered in depth by the models package tests; these check the
// whole path, HTTP to database, for a sample of every code.)
func TestIngestRejectsBadInputWithPaths(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		deep := func(c obj, f func(a obj, k obj)) obj {
			a := c["accounts"].([]any)[0].(obj)
			f(a, a["cards"].([]any)[0].(obj))
			return c
		}
		cases := []struct {
			name      string
			customers []any
			want      []userErr
		}{
			{"missing required", []any{with(customer("C1", "O1"), "postalCode", nil)},
				[]userErr{{Path: "customers[0].postalCode", Code: "REQUIRED"}}},
			{"bad last4", []any{customer("C0", "O1"), deep(customer("C1", "O1"), func(a, k obj) { k["last4"] = "12a4" })},
				[]userErr{{Path: "customers[1].accounts[0].cards[0].last4", Code: "INVALID_FORMAT"}}},
			{"unassigned country", []any{with(customer("C1", "O1"), "country", "ZZ")},
				[]userErr{{Path: "customers[0].country", Code: "INVALID_VALUE"}}},
			{"too long id", []any{with(customer("C1", "O1"), "organizationId", strings.Repeat("x", 121))},
				[]userErr{{Path: "customers[0].organizationId", Code: "TOO_LONG"}}},
			{"primary not a holder", []any{deep(customer("C1", "O1"), func(a, k obj) { a["primarySourceCustomerId"] = "X" })},
				[]userErr{{Path: "customers[0].accounts[0].primarySourceCustomerId", Code: "INCONSISTENT"}}},
			{"duplicate customer", []any{customer("C1", "O1"), customer("C1", "O1")},
				[]userErr{{Path: "customers[1].sourceCustomerId", Code: "DUPLICATE"}}},
			{"network contradicts IIN", []any{deep(customer("C1", "O1"), func(a, k obj) { k["networkIdentifier"] = "5" })},
				[]userErr{{Path: "customers[0].accounts[0].cards[0].networkIdentifier", Code: "INVALID_VALUE"}}},
			{"closed without close date", []any{deep(customer("C1", "O1"), func(a, k obj) { a["status"] = "CLOSED" })},
				[]userErr{{Path: "customers[0].accounts[0].accountCloseDate", Code: "INCONSISTENT"}}},
			{"several problems, all reported", []any{
				with(customer("C1", "O1"), "country", "usa", "alertOptInStatus", []any{"ALL", "NEW"}),
				deep(customer("C2", "O1"), func(a, k obj) { k["iin"] = "12345"; k["sourceCustomerId"] = "X" })},
				[]userErr{
					{Path: "customers[0].country", Code: "INVALID_FORMAT"},
					{Path: "customers[0].alertOptInStatus", Code: "INVALID_VALUE"},
					{Path: "customers[1].accounts[0].cards[0].sourceCustomerId", Code: "INCONSISTENT"},
					{Path: "customers[1].accounts[0].cards[0].iin", Code: "INVALID_FORMAT"},
				}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := e.ingest(t, c.customers, nil)
				assertUserErrorSet(t, p.UserErrors, c.want)
				if p.Summary.Customers != (counts{}) || p.Summary.Cards != (counts{}) || len(p.Customers) != 0 {
					t.Errorf("a rejected batch reports zeros and no customers: got %+v", p)
				}
				if n := e.customerCount(t); n != 0 {
					t.Errorf("a rejected batch wrote %d customers", n)
				}
			})
		}
	})
}

// assertUserErrorSet compares path and code of every problem, in any order.
func assertUserErrorSet(t *testing.T, got []struct{ Path, Code, Message string }, want []userErr) {
	t.Helper()
	seen := map[string]int{}
	for _, g := range got {
		if g.Message == "" {
			t.Errorf("%s: empty message", g.Path)
		}
		seen[g.Path+" "+g.Code]++
	}
	for _, w := range want {
		if seen[w.Path+" "+w.Code] == 0 {
			t.Errorf("missing %s %s; got %+v", w.Path, w.Code, got)
		}
		delete(seen, w.Path+" "+w.Code)
	}
	for k := range seen {
		t.Errorf("unexpected problem %s; got %+v", k, got)
	}
}

// Values the schema's types cannot accept fail the whole request, naming the input path.
func TestIngestTypeErrorsFailTheRequest(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		cases := map[string]obj{
			"number for a string": with(customer("C1", "O1"), "postalCode", 78753),
			"unknown enum":        with(customer("C1", "O1"), "targetingIndicator", "SOMETIMES"),
			"date without offset": with(customer("C1", "O1"), "customerCreationDate", "2017-01-01T08:00:00"),
			"network not a number": func() obj {
				c := customer("C1", "O1")
				c["accounts"].([]any)[0].(obj)["cards"].([]any)[0].(obj)["networkIdentifier"] = "visa"
				return c
			}(),
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				r := e.post(t, ingestQuery, obj{"customers": []any{c}})
				if len(r.Errors) == 0 {
					t.Fatalf("want a request error, got %s", r.Data)
				}
				code := r.Errors[0].code()
				if code != "BAD_USER_INPUT" && code != "GRAPHQL_VALIDATION_FAILED" {
					t.Errorf("code: got %s (%q)", code, r.Errors[0].Message)
				}
				if !strings.Contains(r.Errors[0].Message, "customers[0].") {
					t.Errorf("message %q does not name the input path", r.Errors[0].Message)
				}
				if n := e.customerCount(t); n != 0 {
					t.Errorf("wrote %d customers", n)
				}
			})
		}
	})
}

// skipInvalid writes the valid customers and reports the rest; dryRun writes nothing but counts.
func TestSkipInvalidAndDryRun(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		batch := []any{customer("C1", "O1"), with(customer("C2", "O1"), "country", "ZZ"), customer("C3", "O1")}
		dry := e.ingest(t, batch[:1], obj{"dryRun": true})
		if !dry.Summary.DryRun || dry.Summary.Customers != (counts{1, 0, 0}) || len(dry.Customers) != 0 || e.customerCount(t) != 0 {
			t.Errorf("dry run: got %+v and %d stored, want counts and nothing written", dry, e.customerCount(t))
		}
		p := e.ingest(t, batch, obj{"skipInvalid": true})
		if p.Summary.SkippedCustomers != 1 || p.Summary.Customers != (counts{2, 0, 0}) || len(p.UserErrors) != 1 || p.UserErrors[0].Path != "customers[1].country" {
			t.Errorf("skipInvalid: got %+v", p)
		}
		if n := e.customerCount(t); n != 2 {
			t.Errorf("stored: got %d, want 2", n)
		}
		dry = e.ingest(t, batch, obj{"dryRun": true, "skipInvalid": true})
		if dry.Summary.Customers != (counts{0, 0, 2}) || dry.Summary.SkippedCustomers != 1 {
			t.Errorf("dry run of a replay: got %+v", dry.Summary)
		}
	})
}

// A joint account may appear under each holder: one account, the union of the cards; differing
// occurrences are a CONFLICT at the later one.
func TestJointAccountsAcrossHolders(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a, b := customer("A", "O1"), customer("B", "O2")
		a["accounts"] = []any{account("J", []any{"A", "B"}, card("J", "A", "1111", "412345"))}
		jb := account("J", []any{"A", "B"}, card("J", "B", "2222", "412345"))
		b["accounts"] = []any{jb}
		p := e.mustIngest(t, a, b)
		if p.Summary.Accounts != (counts{1, 0, 0}) || p.Summary.Cards != (counts{2, 0, 0}) {
			t.Errorf("summary: got %+v, want 1 account and 2 cards", p.Summary)
		}
		var out struct {
			Account struct {
				Holders []struct{ SourceCustomerID string }
				Cards   []struct{ Last4 string }
			}
		}
		e.query(t, `{ account(sourceAccountId: "J") { holders { sourceCustomerId } cards { last4 } } }`, nil, &out)
		if len(out.Account.Holders) != 2 || len(out.Account.Cards) != 2 {
			t.Errorf("joint account: got %+v", out.Account)
		}

		conflicting := with(jb, "type", "SAV")
		b2 := with(b, "accounts", []any{conflicting})
		bad := e.ingest(t, []any{a, b2}, nil)
		assertUserErrorSet(t, bad.UserErrors, []userErr{{Path: "customers[1].accounts[0]", Code: "CONFLICT"}})
		if len(bad.UserErrors) == 1 && !strings.Contains(bad.UserErrors[0].Message, "customers[0].accounts[0]") {
			t.Errorf("the message must name the earlier occurrence: %q", bad.UserErrors[0].Message)
		}
	})
}

// A batch over the limit is refused whole.
func TestIngestBatchLimit(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *config) { c.maxIngestBatch = 3 })
	p := e.ingest(t, many(4, "O1"), nil)
	assertUserErrorSet(t, p.UserErrors, []userErr{{Path: "customers", Code: "LIMIT_EXCEEDED"}})
	if n := e.customerCount(t); n != 0 {
		t.Errorf("wrote %d customers", n)
	}
}

// A list of customers over the batch limit is refused without its customers being decoded, as
// soon as the one beyond the limit is met, and answered exactly as the store answers such a
// batch when it gets one (here through a document whose field is in an inline fragment, which
// leaves the list to gqlgen and the store).
func TestBatchLimitRefusedBeforeDecoding(t *testing.T) {
	forEachStoreWith(t, func(c *config) { c.maxIngestBatch = 3 }, func(t *testing.T, e *env) {
		fragment := strings.Replace(ingestQuery, ") {\n  ingestCustomers(", ") { ... on Mutation {\n  ingestCustomers(", 1) + " }"
		if fragment == ingestQuery+" }" {
			t.Fatal("ingestQuery has changed: put its field in a fragment here")
		}
		for _, options := range []obj{nil, {"dryRun": true}} {
			vars := obj{"customers": many(5, "O1"), "options": options}
			e.logs.Reset()
			status, early := postRaw(t, e.url, "", string(must(json.Marshal(obj{"query": ingestQuery, "variables": vars}))))
			if !strings.Contains(e.logs.String(), `msg="ingest input over the batch limit"`) {
				t.Fatalf("the list was not refused before decoding: %s", early)
			}
			e.logs.Reset()
			wantStatus, want := postRaw(t, e.url, "", string(must(json.Marshal(obj{"query": fragment, "variables": vars}))))
			if strings.Contains(e.logs.String(), "ingest input") {
				t.Fatalf("the list in a fragment did not reach the store: %s", e.logs.String())
			}
			if status != wantStatus || !bytes.Equal(early, want) {
				t.Errorf("options %v: refused early\n %d %s\nby the store\n %d %s", options, status, early, wantStatus, want)
			}
			if !bytes.Contains(want, []byte(`"a batch may hold at most 3 customers, got 5"`)) {
				t.Errorf("the store's answer: %s", want)
			}
		}
		if n := e.customerCount(t); n != 0 {
			t.Errorf("wrote %d customers", n)
		}
	})
}

// Int arguments take numbers only, String arguments strings only; a lower-case t and z are
// RFC 3339 too.
func TestStrictScalars(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	for name, c := range map[string]struct {
		query string
		vars  obj
	}{
		"string for an Int":    {`query($n: Int) { customers(first: $n) { totalCount } }`, obj{"n": "7"}},
		"number for a String":  {`query($f: CardFilter) { cards(filter: $f) { totalCount } }`, obj{"f": obj{"last4": 2345}}},
		"Int beyond 32 bits":   {`query($n: Int) { customers(first: $n) { totalCount } }`, obj{"n": 2147483648}},
		"strings for numbers":  {`query($f: CardFilter) { cards(filter: $f) { totalCount } }`, obj{"f": obj{"networkIdentifiers": []any{"3"}}}},
		"fraction for an Int":  {`query($n: Int) { customers(first: $n) { totalCount } }`, obj{"n": 1.5}},
		"boolean for a String": {`query($id: String!) { customer(sourceCustomerId: $id) { id } }`, obj{"id": true}},
	} {
		t.Run(name, func(t *testing.T) {
			errs := e.errorsOf(t, c.query, c.vars)
			if code := errs[0].code(); code != "BAD_USER_INPUT" && code != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("got %+v", errs[0])
			}
		})
	}
	e.mustIngest(t, with(customer("C1", "O1"), "customerCreationDate", "2017-01-01t08:00:00z"))
}
