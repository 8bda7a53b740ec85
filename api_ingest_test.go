package main

import (
	"encoding/json"
	"testing"
)

// The reference example of the publisher format (testdata/reference-example.json), sent unchanged as the variables of the mutation, ingests;
// a replay changes nothing, updatedAt included.
func TestReferenceExampleIngestsUnchanged(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var vars map[string]any
		if err := json.Unmarshal(readFile(t, "testdata/reference-example.json"), &vars); err != nil {
			t.Fatal(err)
		}
		q := `mutation($customers: [CustomerInput!]!) { ingestCustomers(customers: $customers) {
			summary { customers { created updated unchanged } accounts { created updated unchanged } cards { created updated unchanged } }
			userErrors { path code message } } }`
		var first, second struct {
			IngestCustomers struct {
				Summary    struct{ Customers, Accounts, Cards counts }
				UserErrors []any
			}
		}
		e.query(t, q, vars, &first)
		if got := first.IngestCustomers; len(got.UserErrors) != 0 || got.Summary.Customers != (counts{1, 0, 0}) ||
			got.Summary.Accounts != (counts{1, 0, 0}) || got.Summary.Cards != (counts{1, 0, 0}) {
			t.Fatalf("first ingest: got %+v, want one of each created", got)
		}
		const read = `{ customer(sourceCustomerId: "afa2r21-25f9-4501-b9db-e78afa73c0e3") {
			id sourceCustomerId sourceParentCustomerId organizationId country enrollmentEndDate alertOptInStatus
			customerCreationDate updatedAt createdAt parent { sourceCustomerId }
			accounts { sourceAccountId sourceCustomerIds primarySourceCustomerId accountCloseDate
				holders { sourceCustomerId } primaryCustomer { sourceCustomerId }
				cards { last4 iin networkIdentifier network closeDate customer { sourceCustomerId } account { sourceAccountId } } } } }`
		var before struct {
			Customer struct {
				ID, SourceCustomerID, SourceParentCustomerID, OrganizationID, Country string
				EnrollmentEndDate, CustomerCreationDate, UpdatedAt, CreatedAt         string
				AlertOptInStatus                                                      []string
				Parent                                                                *struct{ SourceCustomerID string }
				Accounts                                                              []struct {
					SourceAccountID         string
					SourceCustomerIds       []string
					PrimarySourceCustomerID string
					AccountCloseDate        *string
					Holders                 []struct{ SourceCustomerID string }
					PrimaryCustomer         *struct{ SourceCustomerID string }
					Cards                   []struct {
						Last4, Iin, Network string
						NetworkIdentifier   int
						CloseDate           *string
						Customer            *struct{ SourceCustomerID string }
						Account             struct{ SourceAccountID string }
					}
				}
			}
		}
		e.query(t, read, nil, &before)
		c := before.Customer
		if c.OrganizationID != "50004" || c.Country != "US" || c.SourceParentCustomerID != "2e052a88-6ae1-4501-b9db-e78afa73c0e3" {
			t.Errorf("customer attributes: got %+v", c)
		}
		if c.CustomerCreationDate != "2017-01-01T08:00:00Z" || c.EnrollmentEndDate != "2023-01-01T08:00:00Z" {
			t.Errorf("dates: got %q and %q, want UTC with Z", c.CustomerCreationDate, c.EnrollmentEndDate)
		}
		if c.Parent != nil {
			t.Errorf("parent: got %+v, want null (not ingested)", c.Parent)
		}
		if len(c.Accounts) != 1 {
			t.Fatalf("accounts: got %d, want 1", len(c.Accounts))
		}
		a := c.Accounts[0]
		if len(a.SourceCustomerIds) != 2 || a.SourceCustomerIds[1] != "2e052a88-6ae1-4b78-8d96-f3a037402567" {
			t.Errorf("sourceCustomerIds: got %v, want both holders in order", a.SourceCustomerIds)
		}
		if len(a.Holders) != 1 || a.Holders[0].SourceCustomerID != c.SourceCustomerID {
			t.Errorf("holders: got %+v, want only the ingested holder", a.Holders)
		}
		if a.PrimaryCustomer == nil || a.AccountCloseDate != nil {
			t.Errorf("primaryCustomer %+v, accountCloseDate %v", a.PrimaryCustomer, a.AccountCloseDate)
		}
		if len(a.Cards) != 1 || a.Cards[0].NetworkIdentifier != 3 || a.Cards[0].Network != "AMERICAN_EXPRESS" ||
			a.Cards[0].Customer == nil || a.Cards[0].Account.SourceAccountID != a.SourceAccountID || a.Cards[0].CloseDate != nil {
			t.Errorf("cards: got %+v", a.Cards)
		}

		e.query(t, q, vars, &second)
		if got := second.IngestCustomers.Summary; got.Customers != (counts{0, 0, 1}) || got.Accounts != (counts{0, 0, 1}) || got.Cards != (counts{0, 0, 1}) {
			t.Errorf("replay: got %+v, want everything unchanged", got)
		}
		var after struct {
			Customer struct{ UpdatedAt, CreatedAt string }
		}
		e.query(t, read, nil, &after)
		if after.Customer.UpdatedAt != c.UpdatedAt || after.Customer.CreatedAt != c.CreatedAt {
			t.Errorf("replay moved timestamps: updatedAt %s -> %s", c.UpdatedAt, after.Customer.UpdatedAt)
		}
	})
}

// A change moves updatedAt of the changed row only, and counts as updated.
func TestIngestCountsAndUpdatedAt(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, customer("C1", "O1"), customer("C2", "O1"))
		read := func() map[string]string {
			var out struct {
				Customers struct {
					Nodes []struct{ SourceCustomerID, UpdatedAt string }
				}
			}
			e.query(t, `{ customers { nodes { sourceCustomerId updatedAt } } }`, nil, &out)
			m := map[string]string{}
			for _, n := range out.Customers.Nodes {
				m[n.SourceCustomerID] = n.UpdatedAt
			}
			return m
		}
		before := read()
		changed := with(customer("C1", "O1"), "postalCode", "SW1A 1AA")
		p := e.mustIngest(t, changed, customer("C2", "O1"))
		if p.Summary.Customers != (counts{0, 1, 1}) || p.Summary.Accounts != (counts{0, 0, 2}) || p.Summary.Cards != (counts{0, 0, 2}) {
			t.Errorf("summary: got %+v, want customers 0/1/1, accounts and cards unchanged", p.Summary)
		}
		after := read()
		if after["C1"] == before["C1"] {
			t.Errorf("C1 changed but updatedAt stayed %s", after["C1"])
		}
		if after["C2"] != before["C2"] {
			t.Errorf("C2 unchanged but updatedAt moved %s -> %s", before["C2"], after["C2"])
		}
		if len(p.Customers) != 2 {
			t.Errorf("payload customers: got %d, want the 2 written", len(p.Customers))
		}
	})
}

// Dropping a holder from an account removes that holder's cards on it (a card's holder must
// hold its account), and the summary says so.
func TestDroppedHolderCardsAreCounted(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a, b := customer("A", "O1"), customer("B", "O1")
		j := account("J", []any{"A", "B"}, card("J", "A", "1111", "412345"), card("J", "B", "2222", "412345"))
		a["accounts"] = []any{j}
		e.mustIngest(t, a, b)

		a["accounts"] = []any{account("J", []any{"A"}, card("J", "A", "1111", "412345"))}
		var out struct {
			IngestCustomers struct {
				Summary struct {
					Accounts, Cards struct{ Updated, Unchanged, Deleted int }
				}
			}
			Account struct{ Cards []struct{ Last4 string } }
		}
		e.query(t, `mutation($c: [CustomerInput!]!) { ingestCustomers(customers: $c) {
			summary { accounts { updated unchanged deleted } cards { updated unchanged deleted } } } }`, obj{"c": []any{a}}, &out)
		s := out.IngestCustomers.Summary
		if s.Accounts.Updated != 1 || s.Cards.Unchanged != 1 || s.Cards.Deleted != 1 || s.Accounts.Deleted != 0 {
			t.Errorf("summary: got %+v, want 1 account updated, 1 card unchanged, 1 card deleted", s)
		}
		e.query(t, `{ account(sourceAccountId: "J") { cards { last4 } } }`, nil, &out)
		if len(out.Account.Cards) != 1 || out.Account.Cards[0].Last4 != "1111" {
			t.Errorf("cards of J: got %+v", out.Account.Cards)
		}
	})
}
