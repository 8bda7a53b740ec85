package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// jointPortfolio returns n customers in pairs: each pair shares a joint account (under the
// second of the pair) with a card for each holder, besides each customer's own account; each
// second customer is the child of the first.
func jointPortfolio(n int) []any {
	out := make([]any, 0, n)
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("C%04d", i)
		c := customer(id, "O1")
		if i%2 == 1 {
			prev := fmt.Sprintf("C%04d", i-1)
			joint := account("J-"+id, []any{id, prev}, card("J-"+id, id, "1111", "512345"), card("J-"+id, prev, "2222", "512345"))
			joint["cards"].([]any)[0].(obj)["networkIdentifier"] = "5"
			joint["cards"].([]any)[1].(obj)["networkIdentifier"] = 5
			c["accounts"] = append(c["accounts"].([]any), joint)
			c["sourceParentCustomerId"] = prev
		} else {
			c["sourceParentCustomerId"] = "ROOT" // not ingested: the parent level still runs for N = 1
		}
		out = append(out, c)
	}
	return out
}

// A request costs at most a fixed number of SQL statements per level of nesting, whatever the
// page size: the nested query below issues no more statements for 500 customers than for 1
// (fewer when a level's objects were all loaded before: the holders of a page's accounts are
// mostly customers of the page).
func TestNestedQueryStatementCountIsFixed(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		all := jointPortfolio(500)
		for i := 0; i < len(all); i += 250 {
			e.mustIngest(t, all[i:i+250]...)
		}
		const q = `query($n: Int) { customers(first: $n) { nodes { sourceCustomerId
			parent { sourceCustomerId }
			accounts { sourceAccountId holders { sourceCustomerId } cards { last4 customer { sourceCustomerId } account { sourceAccountId } } } } } }`
		var counts []int64
		for _, n := range []int{1, 50, 500} {
			var out struct {
				Customers struct {
					Nodes []struct {
						Accounts []struct {
							Holders []any
							Cards   []struct {
								Customer *struct{ SourceCustomerID string }
							}
						}
					}
				}
			}
			got := e.countStatements(func() { e.query(t, q, obj{"n": n}, &out) })
			if len(out.Customers.Nodes) != n {
				t.Fatalf("first %d: got %d customers", n, len(out.Customers.Nodes))
			}
			if n == 500 {
				holders, cards := 0, 0
				for _, c := range out.Customers.Nodes {
					for _, a := range c.Accounts {
						holders += len(a.Holders)
						for _, k := range a.Cards {
							if k.Customer != nil {
								cards++
							}
						}
					}
				}
				// 500 own accounts + 250 joint accounts seen from both holders.
				if holders != 500+250*2*2 || cards != 500+250*2*2 {
					t.Errorf("500 customers: got %d holders and %d cards with customers, want 1500 each", holders, cards)
				}
			}
			counts = append(counts, got)
		}
		t.Logf("statements for N = 1, 50, 500: %v", counts)
		if counts[1] > counts[0] || counts[2] > counts[0] {
			t.Errorf("statements for N = 1, 50, 500: got %v, want no more than for 1", counts)
		}
		// customers, parent, accounts, holders, cards, card.customer, card.account
		if counts[0] > 7 {
			t.Errorf("statements: got %d, want at most one per nested field (7)", counts[0])
		}
	})
}

// Objects reached through nodes(ids) batch their nested fields too.
func TestNodesBatchNestedFields(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, jointPortfolio(40)...)
		const q = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Customer { accounts { holders { sourceCustomerId } cards { last4 } } } } }`
		var counts []int64
		for _, n := range []int{1, 40} {
			ids := make([]any, n)
			for i := range ids {
				ids[i] = models.CustomerNodeID(fmt.Sprintf("C%04d", i))
			}
			counts = append(counts, e.countStatements(func() { e.query(t, q, obj{"ids": ids}, nil) }))
		}
		if counts[1] > counts[0] {
			t.Errorf("statements for 1 and 40 nodes: got %v, want no more for 40", counts)
		}
	})
}

// totalCount costs its COUNT statement only when a client selects it.
func TestTotalCountOnlyWhenSelected(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, many(3, "O1")...)
		without := e.countStatements(func() { e.query(t, `{ customers(first: 2) { nodes { sourceCustomerId } } }`, nil, nil) })
		with := e.countStatements(func() { e.query(t, `{ customers(first: 2) { totalCount nodes { sourceCustomerId } } }`, nil, nil) })
		if without != 1 || with != 2 {
			t.Errorf("statements: %d without totalCount, %d with it; want 1 and 2", without, with)
		}
	})
}

// Accounts and their cards load in one statement when a query asks for the cards without
// arguments, and the answer is the one the two-statement path gives (cards(filter: {}) takes
// it): joint accounts seen from both holders, accounts without cards, card order.
func TestAccountsWithCardsInOneStatement(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, jointPortfolio(40)...)
		e.mustIngest(t, with(customer("Z0001", "O1"), "accounts", []any{account("A-Z0001", []any{"Z0001"})}))
		const q = `{ customers(first: 100) { nodes { sourceCustomerId accounts { sourceAccountId sourceCustomerIds
			cards%s { sourceAccountId sourceCustomerId last4 iin status openDate customer { sourceCustomerId } } } } } }`
		var joined, separate gqlResponse
		nJoined := e.countStatements(func() { joined = e.post(t, fmt.Sprintf(q, ""), nil) })
		nSeparate := e.countStatements(func() { separate = e.post(t, fmt.Sprintf(q, "(filter: {})"), nil) })
		if len(joined.Errors) > 0 || len(separate.Errors) > 0 {
			t.Fatalf("errors: %+v %+v", joined.Errors, separate.Errors)
		}
		if string(joined.Data) != string(separate.Data) {
			t.Errorf("answers differ:\njoined   %s\nseparate %s", joined.Data, separate.Data)
		}
		for _, want := range []string{`"sourceAccountId":"A-Z0001","sourceCustomerIds":["Z0001"],"cards":[]`, `"J-C0001"`} {
			if !strings.Contains(string(joined.Data), want) {
				t.Errorf("answer lacks %s", want)
			}
		}
		// customers, accounts (+ cards); the cards' holders are customers of the page, loaded
		// already. The separate path loads cards apart.
		if nJoined != 2 || nSeparate != 3 {
			t.Errorf("statements: %d with cards joined, %d apart; want 2 and 3", nJoined, nSeparate)
		}
	})
}

// The support look-up, cards with their account and holder, costs one statement: the page's
// statement joins both. Its answer is the one the separately loaded fields give (through
// nodes(ids), which loads account and holder apart), for an admin and for a reader, who sees
// the joint account's card of a holder of another organization without that holder.
func TestCardsWithAccountAndHolderInOneStatement(t *testing.T) {
	forEachStoreWith(t, withAuth, func(t *testing.T, e *env) {
		twoOrgs(t, e)
		const fields = `id last4 account { sourceAccountId status sourceCustomerIds } customer { sourceCustomerId organizationId }`
		for _, role := range []struct{ name, token string }{{"admin", token(t, "admin")}, {"reader", token(t, "reader", "OA")}} {
			e.token = role.token
			var joined struct {
				Cards struct{ Nodes []json.RawMessage }
			}
			n := e.countStatements(func() {
				e.query(t, `{ cards(filter: {sourceAccountId: "J"}) { nodes { `+fields+` } } }`, nil, &joined)
			})
			if n != 1 {
				t.Errorf("%s: the look-up cost %d statements, want 1", role.name, n)
			}
			if len(joined.Cards.Nodes) != 2 {
				t.Fatalf("%s: %d cards of J, want 2", role.name, len(joined.Cards.Nodes))
			}
			var ids []string
			for _, raw := range joined.Cards.Nodes {
				var c struct{ ID string }
				_ = json.Unmarshal(raw, &c)
				ids = append(ids, c.ID)
			}
			var apart struct{ Nodes []json.RawMessage }
			e.query(t, `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Card { `+fields+` } } }`, obj{"ids": ids}, &apart)
			for i := range ids {
				if string(joined.Cards.Nodes[i]) != string(apart.Nodes[i]) {
					t.Errorf("%s: joined %s, apart %s", role.name, joined.Cards.Nodes[i], apart.Nodes[i])
				}
			}
			hidden := strings.Contains(string(joined.Cards.Nodes[1]), `"customer":null`)
			if role.name == "reader" && !hidden || role.name == "admin" && hidden {
				t.Errorf("%s: B1's card shows its holder as %s", role.name, joined.Cards.Nodes[1])
			}
		}
		// edges { node } asks the same way.
		e.token = token(t, "admin")
		if n := e.countStatements(func() {
			e.query(t, `{ cards(filter: {last4: "1111"}) { edges { node { account { status } customer { country } } } } }`, nil, nil)
		}); n != 1 {
			t.Errorf("edges { node }: %d statements, want 1", n)
		}
	})
}

// One customer with its accounts and their cards is one statement, and its answer is the one
// the separate loads give (accounts(filter: {}) takes them): joint accounts, an account
// without cards, an unknown id, and a reader of one organization, who sees the joint account
// and all its cards from its own holder, and not the other organization's customers.
func TestCustomerWithAccountsAndCardsInOneStatement(t *testing.T) {
	forEachStoreWith(t, withAuth, func(t *testing.T, e *env) {
		twoOrgs(t, e)
		e.mustIngest(t, with(customer("A3", "OA"), "accounts", []any{account("A-A3", []any{"A3"})}), with(customer("A4", "OA"), "accounts", []any{account("A-A4", []any{"A4"})}))
		// A4 gives its only account away, and holds none.
		e.token = token(t, "admin")
		e.query(t, `mutation { updateAccount(sourceAccountId: "A-A4", patch: {sourceCustomerIds: ["A1"], primarySourceCustomerId: "A1"}) {
			userErrors { message } } }`, nil, nil)
		const q = `query($id: String!) { customer(sourceCustomerId: $id) { sourceCustomerId accounts%s { sourceAccountId
			sourceCustomerIds status cards%s { sourceCustomerId last4 customer { sourceCustomerId } } holders { sourceCustomerId } } } }`
		for _, role := range []struct{ name, token string }{{"admin", token(t, "admin")}, {"reader", token(t, "reader", "OA")}} {
			e.token = role.token
			for _, id := range []string{"A1", "B1", "A2", "A3", "A4", "nobody"} {
				var joined, separate, noCards gqlResponse
				nJoined := e.countStatements(func() { joined = e.post(t, fmt.Sprintf(q, "", ""), obj{"id": id}) })
				nSeparate := e.countStatements(func() { separate = e.post(t, fmt.Sprintf(q, "(filter: {})", ""), obj{"id": id}) })
				nNoCards := e.countStatements(func() { noCards = e.post(t, fmt.Sprintf(q, "", "(filter: {})"), obj{"id": id}) })
				if len(joined.Errors)+len(separate.Errors)+len(noCards.Errors) > 0 {
					t.Fatalf("%s %s: errors %+v %+v %+v", role.name, id, joined.Errors, separate.Errors, noCards.Errors)
				}
				if string(joined.Data) != string(separate.Data) || string(noCards.Data) != string(separate.Data) {
					t.Errorf("%s %s: answers differ:\njoined    %s\nseparate  %s\ncards apart %s", role.name, id, joined.Data, separate.Data, noCards.Data)
				}
				// Joined: customer, accounts and cards in one; then the holders of its accounts
				// that were not loaded yet (the customer was) and their cards, one statement
				// more only for the joint account of A1 and B1, whose other holder is new to
				// the request (a reader of OA does not see B1's). Apart: the accounts' cards cost
				// one statement more, where there are accounts.
				want := map[string][2]int64{"A1": {2, 3}, "B1": {2, 3}, "A2": {1, 2}, "A3": {1, 2}, "A4": {1, 1}, "nobody": {1, 1}}[id]
				if role.name == "reader" && id == "B1" {
					want = [2]int64{1, 1}
				}
				if nJoined != want[0] || nNoCards != want[1] {
					t.Errorf("%s %s: statements %d joined, %d with cards apart; want %d and %d",
						role.name, id, nJoined, nNoCards, want[0], want[1])
				}
				if nSeparate < nNoCards {
					t.Errorf("%s %s: statements %d with accounts apart, fewer than %d with cards apart", role.name, id, nSeparate, nNoCards)
				}
				// Without the holders, the customer, its accounts and their cards are one statement.
				if n := e.countStatements(func() {
					e.query(t, `query($id: String!) { customer(sourceCustomerId: $id) { accounts { cards { last4 } } } }`, obj{"id": id}, nil)
				}); n != 1 {
					t.Errorf("%s %s: %d statements for the customer with its accounts and cards, want 1", role.name, id, n)
				}
			}
			if !strings.Contains(string(e.post(t, fmt.Sprintf(q, "", ""), obj{"id": "A3"}).Data), `"sourceAccountId":"A-A3","sourceCustomerIds":["A3"],"status":"OPEN","cards":[]`) {
				t.Errorf("%s: A3's account should have no cards", role.name)
			}
			// The outer join's NULL account columns are no account.
			if got := string(e.post(t, fmt.Sprintf(q, "", ""), obj{"id": "A4"}).Data); got != `{"customer":{"sourceCustomerId":"A4","accounts":[]}}` {
				t.Errorf("%s: A4 holds no account: %s", role.name, got)
			}
		}
		e.token = token(t, "reader", "OA")
		if got := string(e.post(t, fmt.Sprintf(q, "", ""), obj{"id": "B1"}).Data); got != `{"customer":null}` {
			t.Errorf("a reader of OA sees B1: %s", got)
		}
	})
}
