package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Hostile input: every input ends in a clear, coded answer, with work bounded by the input's
// size and nothing written from a refused request, on both stores.

// postRaw sends a request body exactly as given, invalid bytes included.
func (e *env) postRaw(t *testing.T, body []byte) gqlResponse {
	t.Helper()
	resp, err := http.Post(e.url+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return decodeResponse(t, resp)
}

// getQuery sends a GET request with the given raw query string.
func (e *env) getQuery(t *testing.T, rawQuery string) gqlResponse {
	t.Helper()
	resp, err := http.Get(e.url + "/query?" + rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	return decodeResponse(t, resp)
}

func decodeResponse(t *testing.T, resp *http.Response) gqlResponse {
	t.Helper()
	out, err := readResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rawBody marshals {query, variables} and then replaces each placeholder (a JSON string's
// content) with raw bytes, which json.Marshal would not write.
func rawBody(t *testing.T, query string, vars any, replace ...string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(replace); i += 2 {
		if !bytes.Contains(b, []byte(replace[i])) {
			t.Fatalf("placeholder %q not in body", replace[i])
		}
		b = bytes.ReplaceAll(b, []byte(replace[i]), []byte(replace[i+1]))
	}
	return b
}

// wantRequestError checks that r failed with one error of code whose message names name.
func wantRequestError(t *testing.T, r gqlResponse, code, name string) {
	t.Helper()
	if len(r.Errors) == 0 {
		t.Fatalf("want a %s error, got data %s", code, r.Data)
	}
	if got := r.Errors[0]; got.code() != code || !strings.Contains(got.Message, name) {
		t.Errorf("want %s naming %q, got %s: %s", code, name, got.code(), got.Message)
	}
}

// ingestPayloadOf decodes the ingest payload of r, which must have no request error.
func ingestPayloadOf(t *testing.T, r gqlResponse) ingestPayload {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", r.Errors)
	}
	var out struct{ IngestCustomers ingestPayload }
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	return out.IngestCustomers
}

// An account listing 100,000 holders is refused at its list, before any holder is looked at
// and with the statements of the smallest refused batch; nothing is written.
func TestHostileHolderList(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		dryRun := obj{"dryRun": true}
		small := with(customer("C1", "O1"), "postalCode", "?")
		baseline := e.countStatements(func() { e.ingest(t, []any{small}, dryRun) })

		holders := make([]any, 100000)
		holders[0] = "C1"
		for i := 1; i < len(holders); i++ {
			holders[i] = fmt.Sprintf("H%06d", i)
		}
		holders[50000] = "bad\x00holder" // never reported: the list is refused as a whole
		c := customer("C1", "O1")
		c["accounts"] = []any{account("A-C1", holders)}
		var p ingestPayload
		n := e.countStatements(func() { p = e.ingest(t, []any{c}, dryRun) })
		assertUserErrorSet(t, p.UserErrors, []userErr{{Path: "customers[0].accounts[0].sourceCustomerIds", Code: "LIMIT_EXCEEDED"}})
		if n > baseline {
			t.Errorf("refusing 100,000 holders took %d statements, a one-customer refused batch %d", n, baseline)
		}
		if got := e.customerCount(t); got != 0 {
			t.Errorf("%d customers written", got)
		}
	})
}

// Each list of the ingest input and of the patches has its maximum, refused at its path.
func TestHostileInputListLimits(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		accounts := make([]any, 1001)
		for i := range accounts {
			accounts[i] = account(fmt.Sprintf("A%04d", i), []any{"C1"})
		}
		cards := make([]any, 1001)
		for i := range cards {
			cards[i] = card("A-C1", "C1", fmt.Sprintf("%04d", i%10000), "412345")
		}
		alerts := make([]any, 101)
		for i := range alerts {
			alerts[i] = "NEW"
		}
		manyCards := customer("C1", "O1")
		manyCards["accounts"] = []any{account("A-C1", []any{"C1"}, toObjs(cards)...)}
		cases := []struct {
			name string
			c    obj
			path string
		}{
			{"accounts per customer", with(customer("C1", "O1"), "accounts", accounts), "customers[0].accounts"},
			{"cards per account", manyCards, "customers[0].accounts[0].cards"},
			{"alert values", with(customer("C1", "O1"), "alertOptInStatus", alerts), "customers[0].alertOptInStatus"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := e.ingest(t, []any{c.c}, nil)
				assertUserErrorSet(t, p.UserErrors, []userErr{{Path: c.path, Code: "LIMIT_EXCEEDED"}})
				if got := e.customerCount(t); got != 0 {
					t.Errorf("%d customers written", got)
				}
			})
		}

		e.mustIngest(t, customer("C1", "O1"))
		holders := []any{"C1"}
		for i := range 100 {
			holders = append(holders, fmt.Sprintf("H%03d", i))
		}
		var out struct {
			UpdateAccount struct {
				Account    *struct{ SourceCustomerIds []string }
				UserErrors []struct{ Path, Code, Message string }
			}
			UpdateCustomer struct {
				Customer   *struct{ AlertOptInStatus []string }
				UserErrors []struct{ Path, Code, Message string }
			}
		}
		e.query(t, `mutation($h: [String!], $a: [AlertOptInStatus!]) {
			updateAccount(sourceAccountId: "A-C1", patch: {sourceCustomerIds: $h}) { account { sourceCustomerIds } userErrors { path code message } }
			updateCustomer(sourceCustomerId: "C1", patch: {alertOptInStatus: $a}) { customer { alertOptInStatus } userErrors { path code message } } }`,
			obj{"h": holders, "a": alerts}, &out)
		assertUserErrorSet(t, out.UpdateAccount.UserErrors, []userErr{{Path: "patch.sourceCustomerIds", Code: "LIMIT_EXCEEDED"}})
		assertUserErrorSet(t, out.UpdateCustomer.UserErrors, []userErr{{Path: "patch.alertOptInStatus", Code: "LIMIT_EXCEEDED"}})
		var back struct {
			Account  struct{ SourceCustomerIds []string }
			Customer struct{ AlertOptInStatus []string }
		}
		e.query(t, `{ account(sourceAccountId: "A-C1") { sourceCustomerIds } customer(sourceCustomerId: "C1") { alertOptInStatus } }`, nil, &back)
		if len(back.Account.SourceCustomerIds) != 1 || len(back.Customer.AlertOptInStatus) != 1 {
			t.Errorf("a refused patch changed the rows: %+v", back)
		}
	})
}

func toObjs(list []any) []obj {
	out := make([]obj, len(list))
	for i, v := range list {
		out[i] = v.(obj)
	}
	return out
}

// Every list of every filter, and nodes(ids), takes its maximum and is refused beyond it with
// BAD_USER_INPUT naming the argument, before any statement runs.
func TestHostileFilterListLimits(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, customer("C1", "O1"))
		max := e.cfg.maxFilterValues
		values := func(n int, f func(i int) any) []any {
			out := make([]any, n)
			for i := range out {
				out[i] = f(i)
			}
			return out
		}
		str := func(i int) any { return fmt.Sprintf("V%d", i) }
		constant := func(v any) func(int) any { return func(int) any { return v } }
		const (
			customers = `query($f: CustomerFilter) { customers(filter: $f) { totalCount } portfolioStats(filter: $f) { customers } }`
			accounts  = `query($f: AccountFilter) { accounts(filter: $f) { totalCount } }`
			cards     = `query($f: CardFilter) { cards(filter: $f) { totalCount } }`
			nested    = `query($f: CardFilter) { customers { nodes { cards(filter: $f) { last4 } accounts { cards(filter: $f) { last4 } } } } }`
		)
		cases := []struct {
			name, query, field string
			value              func(int) any
		}{
			{"customers", customers, "organizationIds", str},
			{"customers", customers, "countries", constant("US")},
			{"customers", customers, "enrollmentOptInStatuses", constant("ACTIVE")},
			{"customers", customers, "targetingIndicators", constant("TARGET")},
			{"customers", customers, "alertOptInStatuses", constant("ALL")},
			{"accounts", accounts, "statuses", constant("OPEN")},
			{"accounts", accounts, "types", constant("DDA")},
			{"accounts", accounts, "sourcePortfolioIds", str},
			{"accounts", accounts, "organizationIds", str},
			{"cards", cards, "statuses", constant("OPEN")},
			{"cards", cards, "cardTypes", constant("DEBIT")},
			{"cards", cards, "networkIdentifiers", constant(4)},
			{"cards", cards, "organizationIds", str},
			{"nested", nested, "networkIdentifiers", constant(4)},
		}
		for _, c := range cases {
			t.Run(c.name+" "+c.field, func(t *testing.T) {
				if r := e.post(t, c.query, obj{"f": obj{c.field: values(max, c.value)}}); len(r.Errors) > 0 {
					t.Errorf("%d values: %+v", max, r.Errors)
				}
				var r gqlResponse
				if n := e.countStatements(func() { r = e.post(t, c.query, obj{"f": obj{c.field: values(max+1, c.value)}}) }); n != 0 {
					t.Errorf("%d values ran %d statements, want 0", max+1, n)
				}
				wantRequestError(t, r, "BAD_USER_INPUT", "filter."+c.field)
			})
		}
		t.Run("nodes ids", func(t *testing.T) {
			maxIDs := e.cfg.maxPageSize
			q := `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`
			if r := e.post(t, q, obj{"ids": values(maxIDs, str)}); len(r.Errors) > 0 {
				t.Errorf("%d ids: %+v", maxIDs, r.Errors)
			}
			var r gqlResponse
			if n := e.countStatements(func() { r = e.post(t, q, obj{"ids": values(maxIDs+1, str)}) }); n != 0 {
				t.Errorf("%d ids ran %d statements, want 0", maxIDs+1, n)
			}
			wantRequestError(t, r, "BAD_USER_INPUT", "ids")
		})
	})
}

// A filter of 1,000,000 values is refused without touching the database.
func TestHostileMillionValueFilter(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var b bytes.Buffer
		b.WriteString(`{"query": "query($f: CustomerFilter) { customers(filter: $f) { totalCount } }", "variables": {"f": {"alertOptInStatuses": [`)
		for i := range 1000000 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"NEW"`)
		}
		b.WriteString(`]}}}`)
		var r gqlResponse
		if n := e.countStatements(func() { r = e.postRaw(t, b.Bytes()) }); n != 0 {
			t.Errorf("ran %d statements, want 0", n)
		}
		wantRequestError(t, r, "BAD_USER_INPUT", "filter.alertOptInStatuses")
	})
}

// NUL in every kind of argument is BAD_USER_INPUT naming it, before any statement; the same
// through a literal in the document.
func TestHostileNULInArguments(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, customer("C1", "O1"))
		const nul = "C\x001"
		cases := []struct{ name, query, arg string }{
			{"customer", `query($v: String!) { customer(sourceCustomerId: $v) { id } }`, "sourceCustomerId"},
			{"account", `query($v: String!) { account(sourceAccountId: $v) { id } }`, "sourceAccountId"},
			{"card account", `query($v: String!) { card(sourceAccountId: $v, sourceCustomerId: "C1", last4: "1234") { id } }`, "sourceAccountId"},
			{"card customer", `query($v: String!) { card(sourceAccountId: "A-C1", sourceCustomerId: $v, last4: "1234") { id } }`, "sourceCustomerId"},
			{"card last4", `query($v: String!) { card(sourceAccountId: "A-C1", sourceCustomerId: "C1", last4: $v) { id } }`, "last4"},
			{"cards last4", `query($v: String) { cards(filter: {last4: $v}) { totalCount } }`, "filter.last4"},
			{"cards iin", `query($v: String) { cards(filter: {iin: $v}) { totalCount } }`, "filter.iin"},
			{"cards sourceCustomerId", `query($v: String) { cards(filter: {sourceCustomerId: $v}) { totalCount } }`, "filter.sourceCustomerId"},
			{"cards sourceAccountId", `query($v: String) { cards(filter: {sourceAccountId: $v}) { totalCount } }`, "filter.sourceAccountId"},
			{"cards organizationIds", `query($v: String!) { cards(filter: {organizationIds: [$v]}) { totalCount } }`, "filter.organizationIds[0]"},
			{"postalCode", `query($v: String) { customers(filter: {postalCode: $v}) { totalCount } }`, "filter.postalCode"},
			{"countries", `query($v: String!) { customers(filter: {countries: ["US", $v]}) { totalCount } }`, "filter.countries[1]"},
			{"parent", `query($v: String) { customers(filter: {sourceParentCustomerId: $v}) { totalCount } }`, "filter.sourceParentCustomerId"},
			{"stats postalCode", `query($v: String) { portfolioStats(filter: {postalCode: $v}) { customers } }`, "filter.postalCode"},
			{"portfolios", `query($v: String!) { accounts(filter: {sourcePortfolioIds: [$v]}) { totalCount } }`, "filter.sourcePortfolioIds[0]"},
			{"nested cards filter", `query($v: String) { customers { nodes { cards(filter: {last4: $v}) { id } } } }`, "filter.last4"},
			{"after", `query($v: String) { customers(after: $v) { totalCount } }`, "after"},
			{"node", `query($v: ID!) { node(id: $v) { id } }`, "id"},
			{"nodes", `query($v: ID!) { nodes(ids: ["x", $v]) { id } }`, "ids[1]"},
			{"updateCustomer", `mutation($v: String!) { updateCustomer(sourceCustomerId: $v, patch: {postalCode: "1"}) { userErrors { code } } }`, "sourceCustomerId"},
			{"updateAccount", `mutation($v: String!) { updateAccount(sourceAccountId: $v, patch: {type: SAV}) { userErrors { code } } }`, "sourceAccountId"},
			{"updateCard", `mutation($v: String!) { updateCard(sourceAccountId: "A-C1", sourceCustomerId: $v, last4: "1234", patch: {status: OPEN}) { userErrors { code } } }`, "sourceCustomerId"},
			{"deleteCustomer", `mutation($v: String!) { deleteCustomer(sourceCustomerId: $v) { userErrors { code } } }`, "sourceCustomerId"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var r gqlResponse
				if n := e.countStatements(func() { r = e.post(t, c.query, obj{"v": nul}) }); n != 0 {
					t.Errorf("ran %d statements, want 0", n)
				}
				wantRequestError(t, r, "BAD_USER_INPUT", c.arg)
			})
		}
		t.Run("literal", func(t *testing.T) {
			r := e.post(t, `{ customer(sourceCustomerId: "C\u00001") { id } }`, nil)
			wantRequestError(t, r, "BAD_USER_INPUT", "sourceCustomerId")
		})
		var back struct{ Customer struct{ PostalCode string } }
		e.query(t, `{ customer(sourceCustomerId: "C1") { postalCode } }`, nil, &back)
		if back.Customer.PostalCode != "78753" {
			t.Errorf("a refused mutation changed the customer: %+v", back)
		}
	})
}

// NUL in ingested ids and patches is INVALID_FORMAT at its path, dry run or not, and nothing
// is written.
func TestHostileNULInInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		holder := customer("C1", "O1")
		holder["accounts"].([]any)[0].(obj)["cards"].([]any)[0].(obj)["sourceCustomerId"] = "C\x001"
		cases := []struct {
			name string
			c    obj
			path string
		}{
			{"sourceCustomerId", customer("C\x001", "O1"), "customers[0].sourceCustomerId"},
			{"organizationId", customer("C1", "O\x001"), "customers[0].organizationId"},
			{"cardholder", holder, "customers[0].accounts[0].cards[0].sourceCustomerId"},
		}
		for _, c := range cases {
			for _, dry := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s dryRun=%v", c.name, dry), func(t *testing.T) {
					p := e.ingest(t, []any{c.c}, obj{"dryRun": dry})
					found := false
					for _, u := range p.UserErrors {
						found = found || u.Path == c.path && u.Code == "INVALID_FORMAT"
					}
					if !found {
						t.Errorf("want INVALID_FORMAT at %s, got %+v", c.path, p.UserErrors)
					}
					if got := e.customerCount(t); got != 0 {
						t.Errorf("%d customers written", got)
					}
				})
			}
		}
		e.mustIngest(t, customer("C1", "O1"))
		var out struct {
			UpdateCustomer struct {
				UserErrors []struct{ Path, Code, Message string }
			}
		}
		e.query(t, `mutation($v: String) { updateCustomer(sourceCustomerId: "C1", patch: {sourceParentCustomerId: $v}) { userErrors { path code message } } }`,
			obj{"v": "P\x00"}, &out)
		assertUserErrorSet(t, out.UpdateCustomer.UserErrors, []userErr{{Path: "patch.sourceParentCustomerId", Code: "INVALID_FORMAT"}})
	})
}

// Invalid UTF-8 and unpaired surrogate escapes reach validation as invalid text: never stored
// as U+FFFD, so two different ids never become one. Valid text, U+FFFD and surrogate pairs
// included, keeps working.
func TestHostileInvalidText(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		ingest := func(t *testing.T, raw string) ingestPayload {
			t.Helper()
			return ingestPayloadOf(t, e.postRaw(t, rawBody(t, ingestQuery, obj{"customers": []any{customer("PLACEHOLDER", "O1")}}, `"PLACEHOLDER"`, `"`+raw+`"`)))
		}
		for name, raw := range map[string]string{
			"raw invalid byte":   "C\xff1",
			"truncated sequence": "C\xe2\x821",
			"encoded surrogate":  "C\xed\xa0\x801",
			"lone high escape":   `C\ud8001`,
			"lone low escape":    `C\udc001`,
			"high then letter":   `C\uD800\u0041`,
			"two highs":          `\ud800\ud800\udc00`,
		} {
			t.Run(name, func(t *testing.T) {
				p := ingest(t, raw)
				found := false
				for _, u := range p.UserErrors {
					found = found || u.Path == "customers[0].sourceCustomerId" && u.Code == "INVALID_FORMAT"
				}
				if !found {
					t.Errorf("want INVALID_FORMAT at customers[0].sourceCustomerId, got %+v", p.UserErrors)
				}
				if got := e.customerCount(t); got != 0 {
					t.Errorf("%d customers written", got)
				}
			})
		}
		t.Run("valid text", func(t *testing.T) {
			for raw, want := range map[string]string{"C\ufffd1": "C\ufffd1", `C\ufffd2`: "C\ufffd2", `C\ud83d\ude003`: "C😀3", "C😀4": "C😀4"} {
				if p := ingest(t, raw); len(p.UserErrors) > 0 {
					t.Fatalf("%q refused: %+v", raw, p.UserErrors)
				}
				var back struct {
					Customer *struct{ SourceCustomerID string }
				}
				e.query(t, `query($id: String!) { customer(sourceCustomerId: $id) { sourceCustomerId } }`, obj{"id": want}, &back)
				if back.Customer == nil || back.Customer.SourceCustomerID != want {
					t.Errorf("%q: read back %+v, want %q", raw, back.Customer, want)
				}
			}
		})
		t.Run("arguments", func(t *testing.T) {
			q := `query($id: String!) { customer(sourceCustomerId: $id) { id } }`
			for _, raw := range []string{"C\xff", `C\ud800`} {
				var r gqlResponse
				if n := e.countStatements(func() { r = e.postRaw(t, rawBody(t, q, obj{"id": "PLACEHOLDER"}, "PLACEHOLDER", raw)) }); n != 0 {
					t.Errorf("%q ran %d statements", raw, n)
				}
				wantRequestError(t, r, "BAD_USER_INPUT", "sourceCustomerId")
			}
			// In the document: a GraphQL escape, and raw bytes inside the JSON string.
			for _, doc := range []string{`{ customer(sourceCustomerId: "C\ud800") { id } }`, "{ customer(sourceCustomerId: \"C\xff\") { id } }"} {
				wantRequestError(t, e.postRaw(t, rawBody(t, "DOC", nil, `"DOC"`, jsonQuoteRaw(doc))), "BAD_USER_INPUT", "sourceCustomerId")
			}
			r := e.post(t, `mutation { updateCustomer(sourceCustomerId: "C\ufffd1", patch: {sourceParentCustomerId: "P\ud800"}) { userErrors { path code } } }`, nil)
			if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"path":"patch.sourceParentCustomerId","code":"INVALID_FORMAT"`) {
				t.Errorf("a surrogate escape in a patch literal: %s %+v", r.Data, r.Errors)
			}
		})
		t.Run("GET", func(t *testing.T) {
			q := url.QueryEscape(`query($id: String!) { customer(sourceCustomerId: $id) { id } }`)
			for _, vars := range []string{`{"id":"C%FF"}`, `{"id":"C\ud800"}`} {
				v := strings.ReplaceAll(url.QueryEscape(vars), "%25FF", "%FF")
				wantRequestError(t, e.getQuery(t, "query="+q+"&variables="+v), "BAD_USER_INPUT", "sourceCustomerId")
			}
			doc := strings.ReplaceAll(url.QueryEscape(`{ customer(sourceCustomerId: "C_") { id } }`), "_", "%FF")
			wantRequestError(t, e.getQuery(t, "query="+doc), "BAD_USER_INPUT", "sourceCustomerId")
		})
	})
}

// jsonQuoteRaw quotes s as a JSON string, keeping invalid bytes raw.
func jsonQuoteRaw(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// A forged cursor or node id holding NUL is refused or unknown, never an internal error.
func TestHostileForgedIDs(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, customer("C1", "O1"))
		cursor := base64.RawURLEncoding.EncodeToString([]byte(`{"o":"id","k":["C\u0000"]}`))
		wantRequestError(t, e.post(t, `query($a: String) { customers(after: $a) { totalCount } }`, obj{"a": cursor}), "BAD_USER_INPUT", "cursor")
		node := base64.RawURLEncoding.EncodeToString([]byte("Customer:C\x001"))
		var out struct{ Node *struct{ ID string } }
		e.query(t, `query($id: ID!) { node(id: $id) { id } }`, obj{"id": node}, &out)
		if out.Node != nil {
			t.Errorf("a forged id resolved to %+v", out.Node)
		}
	})
}

// A date-time whose UTC value leaves years 0001-9999 is refused, on input and in filters, so
// that everything the server returns can be sent back.
func TestHostileDates(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		for _, d := range []string{"9999-12-31T23:59:59-10:00", "0001-01-01T00:00:00+01:00", "0000-06-01"} {
			t.Run(d, func(t *testing.T) {
				r := e.post(t, ingestQuery, obj{"customers": []any{with(customer("C1", "O1"), "customerCreationDate", d)}})
				wantRequestError(t, r, "GRAPHQL_VALIDATION_FAILED", "customers[0].customerCreationDate")
				var n int64
				n = e.countStatements(func() {
					r = e.post(t, `query($d: DateTime) { customers(filter: {customerCreationDate: {to: $d}}) { totalCount } }`, obj{"d": d})
				})
				wantRequestError(t, r, "GRAPHQL_VALIDATION_FAILED", "DateTime")
				if n != 0 {
					t.Errorf("the filter ran %d statements", n)
				}
				wantRequestError(t, e.post(t, `query($d: DateTime) { customers(filter: {updatedSince: $d}) { totalCount } }`, obj{"d": d}), "GRAPHQL_VALIDATION_FAILED", "variable.d")
				if got := e.customerCount(t); got != 0 {
					t.Errorf("%d customers written", got)
				}
			})
		}
		t.Run("the last instant round-trips", func(t *testing.T) {
			last := "9999-12-31T23:59:59.999999Z"
			e.mustIngest(t, with(customer("C1", "O1"), "customerCreationDate", "9999-12-31T13:59:59.999999-10:00"))
			var out struct {
				Customers struct {
					Nodes []struct{ CustomerCreationDate string }
				}
			}
			e.query(t, `query($d: DateTime) { customers(filter: {customerCreationDate: {from: $d}}) { nodes { customerCreationDate } } }`, obj{"d": last}, &out)
			if len(out.Customers.Nodes) != 1 || out.Customers.Nodes[0].CustomerCreationDate != last {
				t.Errorf("got %+v, want one customer created at %s", out.Customers.Nodes, last)
			}
		})
	})
}
