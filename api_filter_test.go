package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// filterPortfolio: customers in two organizations with varied attributes, a joint account
// across organizations, and cards that share last4+iin.
func filterPortfolio() []any {
	a := customer("A", "O1")
	a["country"] = "gb"
	a["postalCode"] = "SW1A 1AA"
	a["alertOptInStatus"] = []any{"NEW", "EXPIRING"}
	a["customerCreationDate"] = "2010-06-01T00:00:00Z"
	b := customer("B", "O1")
	b["enrollmentOptInStatus"] = "INACTIVE"
	b["targetingIndicator"] = "DO_NOT_TARGET"
	b["sourceParentCustomerId"] = "A"
	b["enrollmentStartDate"] = "2024-03-15"
	c := customer("C", "O2")
	c["alertOptInStatus"] = []any{"REDEMPTION", "NEW"}
	closed := account("X-C", []any{"C", "A"}, card("X-C", "C", "9999", "612345"), card("X-C", "A", "1234", "412345"))
	closed["status"] = "CLOSED"
	closed["type"] = "CRD"
	closed["accountCloseDate"] = "2024-01-01"
	closed["sourcePortfolioId"] = "P-2"
	ks := closed["cards"].([]any)
	ks[0].(obj)["networkIdentifier"] = 6
	ks[0].(obj)["cardType"] = "CREDIT"
	for _, k := range ks {
		k.(obj)["status"] = "CLOSED"
		k.(obj)["closeDate"] = "2024-01-01"
	}
	c["accounts"] = append(c["accounts"].([]any), closed)
	return []any{a, b, c}
}

// Every filter field selects exactly the matching customers, accounts and cards.
func TestFilters(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, filterPortfolio()...)
		customerCases := []struct {
			name   string
			filter obj
			want   []string
		}{
			{"organizations", obj{"organizationIds": []any{"O2"}}, []string{"C"}},
			{"countries, lower case", obj{"countries": []any{"gb"}}, []string{"A"}},
			{"postal code", obj{"postalCode": "SW1A 1AA"}, []string{"A"}},
			{"enrollment statuses", obj{"enrollmentOptInStatuses": []any{"INACTIVE"}}, []string{"B"}},
			{"targeting", obj{"targetingIndicators": []any{"TARGET"}}, []string{"A", "C"}},
			{"alerts any of", obj{"alertOptInStatuses": []any{"REDEMPTION", "EXPIRING"}}, []string{"A", "C"}},
			{"alerts ALL", obj{"alertOptInStatuses": []any{"ALL"}}, []string{"B"}},
			{"parent", obj{"sourceParentCustomerId": "A"}, []string{"B"}},
			{"creation range half-open", obj{"customerCreationDate": obj{"from": "2010-06-01", "to": "2017-01-01T08:00:00Z"}}, []string{"A"}},
			{"enrollment from", obj{"enrollmentStartDate": obj{"from": "2024-01-01"}}, []string{"B"}},
			{"updated since (inclusive)", obj{"updatedSince": "2000-01-01"}, []string{"A", "B", "C"}},
			{"updated since future", obj{"updatedSince": "2999-01-01"}, nil},
			{"combined", obj{"organizationIds": []any{"O1"}, "targetingIndicators": []any{"TARGET"}}, []string{"A"}},
			{"empty list matches nothing", obj{"countries": []any{}}, nil},
		}
		for _, c := range customerCases {
			t.Run("customers/"+c.name, func(t *testing.T) {
				if got := ids(e.page(t, obj{"filter": c.filter})); !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
					t.Errorf("got %v, want %v", got, c.want)
				}
			})
		}

		accountCases := []struct {
			name   string
			filter obj
			want   []string
		}{
			{"statuses", obj{"statuses": []any{"CLOSED"}}, []string{"X-C"}},
			{"types", obj{"types": []any{"DDA"}}, []string{"A-A", "A-B", "A-C"}},
			{"portfolios", obj{"sourcePortfolioIds": []any{"P-2"}}, []string{"X-C"}},
			{"organization of any holder", obj{"organizationIds": []any{"O1"}}, []string{"A-A", "A-B", "X-C"}},
			{"open date", obj{"accountOpenDate": obj{"to": "2018-05-12T20:30:00Z"}}, nil},
		}
		for _, c := range accountCases {
			t.Run("accounts/"+c.name, func(t *testing.T) {
				var out struct {
					Accounts struct {
						Nodes []struct{ SourceAccountID string }
					}
				}
				e.query(t, `query($f: AccountFilter) { accounts(filter: $f) { nodes { sourceAccountId } } }`, obj{"f": c.filter}, &out)
				var got []string
				for _, n := range out.Accounts.Nodes {
					got = append(got, n.SourceAccountID)
				}
				if !slices.Equal(got, c.want) {
					t.Errorf("got %v, want %v", got, c.want)
				}
			})
		}

		cardCases := []struct {
			name   string
			filter obj
			want   []string // account/holder/last4
		}{
			{"support look-up last4+iin", obj{"last4": "1234", "iin": "412345"}, []string{"A-A/A/1234", "A-B/B/1234", "A-C/C/1234", "X-C/A/1234"}},
			{"network", obj{"networkIdentifiers": []any{6}}, []string{"X-C/C/9999"}},
			{"types and statuses", obj{"cardTypes": []any{"DEBIT"}, "statuses": []any{"CLOSED"}}, []string{"X-C/A/1234"}},
			{"holder", obj{"sourceCustomerId": "A"}, []string{"A-A/A/1234", "X-C/A/1234"}},
			{"account", obj{"sourceAccountId": "X-C"}, []string{"X-C/A/1234", "X-C/C/9999"}},
			{"organization of the account", obj{"organizationIds": []any{"O2"}}, []string{"A-C/C/1234", "X-C/A/1234", "X-C/C/9999"}},
		}
		for _, c := range cardCases {
			t.Run("cards/"+c.name, func(t *testing.T) {
				var out struct {
					Cards struct {
						Nodes      []struct{ SourceAccountID, SourceCustomerID, Last4 string }
						TotalCount int
					}
				}
				e.query(t, `query($f: CardFilter) { cards(filter: $f) { nodes { sourceAccountId sourceCustomerId last4 } totalCount } }`, obj{"f": c.filter}, &out)
				var got []string
				for _, n := range out.Cards.Nodes {
					got = append(got, n.SourceAccountID+"/"+n.SourceCustomerID+"/"+n.Last4)
				}
				if !slices.Equal(got, c.want) || out.Cards.TotalCount != len(c.want) {
					t.Errorf("got %v (totalCount %d), want %v", got, out.Cards.TotalCount, c.want)
				}
			})
		}

		t.Run("nested filters", func(t *testing.T) {
			var out struct {
				Customer struct {
					Accounts []struct{ SourceAccountID string }
					Cards    []struct{ Last4 string }
				}
			}
			e.query(t, `{ customer(sourceCustomerId: "A") { accounts(filter: {statuses: [CLOSED]}) { sourceAccountId } cards(filter: {statuses: [OPEN]}) { last4 } } }`, nil, &out)
			if len(out.Customer.Accounts) != 1 || out.Customer.Accounts[0].SourceAccountID != "X-C" || len(out.Customer.Cards) != 1 {
				t.Errorf("got %+v, want the closed joint account and the one open card", out.Customer)
			}
		})
	})
}

// node and nodes resolve every kind of global id; unknown and malformed ids give null.
func TestNodeIDs(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, filterPortfolio()...)
		var ids struct {
			Customer struct {
				ID       string
				Accounts []struct {
					ID    string
					Cards []struct{ ID string }
				}
			}
		}
		e.query(t, `{ customer(sourceCustomerId: "C") { id accounts { id cards { id } } } }`, nil, &ids)
		cid, aid, kid := ids.Customer.ID, ids.Customer.Accounts[0].ID, ids.Customer.Accounts[0].Cards[0].ID
		var out struct {
			Nodes []map[string]any
			Node  map[string]any
		}
		e.query(t, `query($ids: [ID!]!, $id: ID!) {
			node(id: $id) { id __typename }
			nodes(ids: $ids) { id __typename
				... on Customer { sourceCustomerId } ... on Account { sourceAccountId } ... on Card { last4 } } }`,
			obj{"id": kid, "ids": []any{aid, "bogus", cid, kid, "Q3VzdG9tZXI6Tk9QRQ"}}, &out)
		if out.Node["__typename"] != "Card" || out.Node["id"] != kid {
			t.Errorf("node: got %v", out.Node)
		}
		var kinds []string
		for _, n := range out.Nodes {
			if n == nil {
				kinds = append(kinds, "null")
				continue
			}
			kinds = append(kinds, n["__typename"].(string))
		}
		if want := []string{"Account", "null", "Customer", "Card", "null"}; !slices.Equal(kinds, want) {
			t.Errorf("nodes: got %v, want %v", kinds, want)
		}
		if out.Nodes[2]["sourceCustomerId"] != "C" {
			t.Errorf("nodes[2]: got %v", out.Nodes[2])
		}
		all := []string{cid, aid, kid}
		sort.Strings(all)
		if all[0] == all[1] || all[1] == all[2] {
			t.Errorf("ids not distinct: %v", all)
		}
	})
}

// Ids with quotes, backslashes, commas and braces travel intact through the list parameters.
func TestIdsWithSpecialCharacters(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		id := `Q"1\,{x}'`
		e.mustIngest(t, customer(id, "O1"))
		var out struct {
			Customer *struct {
				SourceCustomerID string
				Accounts         []struct {
					Holders []struct{ SourceCustomerID string }
				}
			}
		}
		e.query(t, `query($id: String!) { customer(sourceCustomerId: $id) { sourceCustomerId accounts { holders { sourceCustomerId } } } }`, obj{"id": id}, &out)
		if out.Customer == nil || out.Customer.SourceCustomerID != id || len(out.Customer.Accounts) != 1 ||
			len(out.Customer.Accounts[0].Holders) != 1 || out.Customer.Accounts[0].Holders[0].SourceCustomerID != id {
			t.Errorf("got %+v", out.Customer)
		}
	})
}

// The total of customers filtered by organization only (or not at all) comes from the
// per-organization counts the database keeps by trigger (migration 00002). It stays the number
// of customers a page lists through every kind of write: new customers, replays, a move to
// another organization, deletion, concurrent ingests into the same organizations, and for a
// reader, who sees its own organizations only.
func TestCustomerTotalsFollowWrites(t *testing.T) {
	forEachStoreWith(t, withAuth, func(t *testing.T, e *env) {
		e.token = token(t, "admin")
		filters := []string{"", `(filter: {organizationIds: ["O1"]})`, `(filter: {organizationIds: ["O2"]})`,
			`(filter: {organizationIds: ["O1", "O2", "O1"]})`, `(filter: {organizationIds: ["O3"]})`, `(filter: {organizationIds: []})`}
		check := func(step string, want map[string]int) {
			t.Helper()
			for i, f := range filters {
				var out struct{ Customers struct{ TotalCount int } }
				page := strings.TrimSuffix(f, ")")
				if page == "" {
					page = "(first: 500"
				} else {
					page += ", first: 500"
				}
				e.query(t, `{ customers`+f+` { totalCount } }`, nil, &out)
				var listed struct {
					Page struct {
						Nodes []struct{ SourceCustomerID string }
					}
				}
				e.query(t, `{ page: customers`+page+`) { nodes { sourceCustomerId } } }`, nil, &listed)
				if out.Customers.TotalCount != len(listed.Page.Nodes) {
					t.Errorf("%s, filter %d %s: totalCount %d, the page lists %d", step, i, f, out.Customers.TotalCount, len(listed.Page.Nodes))
				}
				if w, ok := want[f]; ok && out.Customers.TotalCount != w {
					t.Errorf("%s, filter %s: totalCount %d, want %d", step, f, out.Customers.TotalCount, w)
				}
			}
		}
		batch := func(prefix, org string, n int) []any {
			out := make([]any, n)
			for i := range out {
				out[i] = customer(fmt.Sprintf("%s%03d", prefix, i), org)
			}
			return out
		}
		e.mustIngest(t, batch("A", "O1", 30)...)
		e.mustIngest(t, batch("B", "O2", 20)...)
		check("ingested", map[string]int{"": 50, filters[1]: 30, filters[2]: 20, filters[3]: 50, filters[4]: 0, filters[5]: 0})
		e.mustIngest(t, batch("A", "O1", 30)...) // a replay
		e.mustIngest(t, with(customer("A000", "O1"), "postalCode", "10001"))
		check("replayed", map[string]int{"": 50, filters[1]: 30})
		e.query(t, `mutation { updateCustomer(sourceCustomerId: "A001", patch: {organizationId: "O2"}) { userErrors { message } } }`, nil, nil)
		e.mustIngest(t, customer("A002", "O3")) // moved by an ingest
		check("moved", map[string]int{"": 50, filters[1]: 28, filters[2]: 21, filters[4]: 1})
		e.query(t, `mutation { deleteCustomer(sourceCustomerId: "A003") { userErrors { message } } }`, nil, nil)
		check("deleted", map[string]int{"": 49, filters[1]: 27})
		// Concurrent ingests into the same organizations.
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				org := []string{"O1", "O2"}[w%2]
				r, err := e.send(ingestQuery, obj{"customers": batch(fmt.Sprintf("W%d-", w), org, 25)})
				if err == nil && len(r.Errors) > 0 {
					err = fmt.Errorf("%+v", r.Errors)
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		check("after concurrent ingests", map[string]int{"": 249, filters[1]: 127, filters[2]: 121})
		e.token = token(t, "reader", "O1")
		check("a reader of O1", map[string]int{"": 127, filters[1]: 127, filters[2]: 0, filters[3]: 127})
		// These totals are the counts' sums, not a count of rows: a count made wrong by hand
		// shows, in the totals by organization alone and nowhere else.
		e.token = token(t, "admin")
		if err := rawDB(t, e.kind, e.cfg.databaseURL).Exec(
			"UPDATE customer_counts SET n = n + 1000 WHERE organization_id = 'O2' AND slot = (SELECT min(slot) FROM customer_counts WHERE organization_id = 'O2')").Error; err != nil {
			t.Fatal(err)
		}
		for f, want := range map[string]int{"": 1249, filters[2]: 1121, `(filter: {organizationIds: ["O2"], countries: ["US"]})`: 121} {
			var out struct{ Customers struct{ TotalCount int } }
			e.query(t, `{ customers`+f+` { totalCount } }`, nil, &out)
			if out.Customers.TotalCount != want {
				t.Errorf("customers%s totalCount %d after adding 1000 to a count of O2, want %d", f, out.Customers.TotalCount, want)
			}
		}
	})
}

// A card filter's last4 and iin take the shapes the data has (4 digits; 6 or 8 digits): any
// other value, which could match no card, is BAD_USER_INPUT naming the argument and the rule,
// from either executor, whether the filter is written in the document or sent as a variable,
// on Query.cards and on the cards of a customer or an account. Values of the right shape run.
func TestCardFilterFormats(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, customer("C1", "O1"))
		executors := map[string]string{"direct": e.url, "generated": e.sibling(t, func(c *config) { c.generatedReads = true })}
		bad := []struct{ filter, want string }{
			{`{last4: "234"}`, `filter.last4 must be exactly 4 digits, got "234"`},
			{`{last4: "12345"}`, `filter.last4 must be exactly 4 digits, got "12345"`},
			{`{last4: "23a4"}`, `filter.last4 must be exactly 4 digits, got "23a4"`},
			{`{last4: ""}`, `filter.last4 must be exactly 4 digits, got ""`},
			{`{iin: "41234"}`, `filter.iin must be exactly 6 or 8 digits, got "41234"`},
			{`{iin: "4123456"}`, `filter.iin must be exactly 6 or 8 digits, got "4123456"`},
			{`{last4: "1234", iin: "4123 45"}`, `filter.iin must be exactly 6 or 8 digits, got "4123 45"`},
		}
		fields := map[string]string{
			"Query.cards":    `{ cards(filter: %s) { nodes { last4 } } }`,
			"Customer.cards": `{ customer(sourceCustomerId: "C1") { cards(filter: %s) { last4 } } }`,
			"Account.cards":  `{ account(sourceAccountId: "A-C1") { cards(filter: %s) { last4 } } }`,
		}
		for name, base := range executors {
			ex := &env{url: base}
			for field, query := range fields {
				for _, c := range bad {
					r := ex.post(t, fmt.Sprintf(query, c.filter), nil)
					if len(r.Errors) != 1 || r.Errors[0].code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "argument filter of cards: "+c.want) || r.Data != nil {
						t.Errorf("%s, %s(filter: %s): got %s %+v, want BAD_USER_INPUT %q", name, field, c.filter, r.Data, r.Errors, c.want)
					}
				}
			}
			r := ex.post(t, `query($f: CardFilter) { cards(filter: $f) { nodes { last4 } } }`, obj{"f": obj{"last4": "234"}})
			if len(r.Errors) != 1 || r.Errors[0].code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, `filter.last4 must be exactly 4 digits, got "234"`) {
				t.Errorf("%s, the filter as a variable: got %s %+v", name, r.Data, r.Errors)
			}
			for filter, want := range map[string]string{
				`{last4: "1234", iin: "412345"}`:   `{"cards":{"nodes":[{"last4":"1234"}]}}`,
				`{last4: "1234", iin: "41234567"}`: `{"cards":{"nodes":[]}}`,
				`{last4: null, iin: null}`:         `{"cards":{"nodes":[{"last4":"1234"}]}}`,
			} {
				r := ex.post(t, `{ cards(filter: `+filter+`) { nodes { last4 } } }`, nil)
				if len(r.Errors) > 0 || string(r.Data) != want {
					t.Errorf("%s, cards(filter: %s): got %s %+v, want %s", name, filter, r.Data, r.Errors, want)
				}
			}
		}
	})
}
