package main

import (
	"strings"
	"testing"
)

type userErr struct{ Path, Code, Message string }

// Patches change only the fields they name; null clears an optional field and is REQUIRED on a
// required one; the result must satisfy the rules.
func TestUpdateCustomerPatch(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		c := customer("C1", "O1")
		c["enrollmentEndDate"] = "2024-01-01"
		c["sourceParentCustomerId"] = "P"
		e.mustIngest(t, c)
		const q = `mutation($p: CustomerPatch!) { updateCustomer(sourceCustomerId: "C1", patch: $p) {
			customer { postalCode country enrollmentEndDate sourceParentCustomerId redemptionEligibility updatedAt }
			userErrors { path code message } } }`
		type payload struct {
			UpdateCustomer struct {
				Customer *struct {
					PostalCode, Country, UpdatedAt                                   string
					EnrollmentEndDate, SourceParentCustomerID, RedemptionEligibility *string
				}
				UserErrors []userErr
			}
		}
		var out payload
		e.query(t, q, obj{"p": obj{"country": "ca", "enrollmentEndDate": nil, "redemptionEligibility": "NONE"}}, &out)
		got := out.UpdateCustomer.Customer
		if got == nil || got.Country != "CA" || got.EnrollmentEndDate != nil || got.PostalCode != "78753" ||
			got.SourceParentCustomerID == nil || *got.SourceParentCustomerID != "P" || got.RedemptionEligibility == nil {
			t.Fatalf("after patch: got %+v, errors %+v", got, out.UpdateCustomer.UserErrors)
		}
		first := got.UpdatedAt

		cases := []struct {
			name  string
			patch obj
			want  []userErr
		}{
			{"null on required", obj{"postalCode": nil}, []userErr{{Path: "patch.postalCode", Code: "REQUIRED"}}},
			{"bad country", obj{"country": "XX"}, []userErr{{Path: "patch.country", Code: "INVALID_VALUE"}}},
			{"end before start", obj{"enrollmentEndDate": "2000-01-01"}, []userErr{{Path: "patch.enrollmentEndDate", Code: "INCONSISTENT"}}},
			{"parent equal to self", obj{"sourceParentCustomerId": "C1"}, []userErr{{Path: "patch.sourceParentCustomerId", Code: "INCONSISTENT"}}},
			{"two problems", obj{"postalCode": "!!", "alertOptInStatus": []any{}}, []userErr{{Path: "patch.postalCode", Code: "INVALID_FORMAT"}, {Path: "patch.alertOptInStatus", Code: "INVALID_VALUE"}}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var out payload
				e.query(t, q, obj{"p": c.patch}, &out)
				assertUserErrors(t, out.UpdateCustomer.UserErrors, c.want)
				if out.UpdateCustomer.Customer != nil {
					t.Errorf("customer: got %+v, want null on a refused patch", out.UpdateCustomer.Customer)
				}
			})
		}
		var again payload
		e.query(t, q, obj{"p": obj{"country": "CA"}}, &again)
		if again.UpdateCustomer.Customer == nil || again.UpdateCustomer.Customer.UpdatedAt != first {
			t.Errorf("a patch that changes nothing moved updatedAt: %s -> %+v", first, again.UpdateCustomer.Customer)
		}

		var missing payload
		e.query(t, strings.Replace(q, `"C1"`, `"nope"`, 1), obj{"p": obj{"country": "CA"}}, &missing)
		assertUserErrors(t, missing.UpdateCustomer.UserErrors, []userErr{{Path: "sourceCustomerId", Code: "NOT_FOUND"}})
	})
}

func assertUserErrors(t *testing.T, got []userErr, want []userErr) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("user errors: got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Path != want[i].Path || got[i].Code != want[i].Code || got[i].Message == "" {
			t.Errorf("user error %d: got %+v, want path %s code %s with a message", i, got[i], want[i].Path, want[i].Code)
		}
	}
}

// updateAccount may replace the holders; cards of holders it drops go with them. Closing by
// close date alone sets the status.
func TestUpdateAccountAndCard(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := customer("A", "O1")
		a["accounts"] = []any{account("J", []any{"A", "B"}, card("J", "A", "1111", "412345"), card("J", "B", "2222", "412345"))}
		e.mustIngest(t, a, customer("B", "O1"))

		const qa = `mutation($p: AccountPatch!) { updateAccount(sourceAccountId: "J", patch: $p) {
			account { status accountCloseDate sourceCustomerIds primarySourceCustomerId holders { sourceCustomerId } cards { last4 } }
			userErrors { path code message } } }`
		var out struct {
			UpdateAccount struct {
				Account *struct {
					Status                  string
					AccountCloseDate        *string
					SourceCustomerIds       []string
					PrimarySourceCustomerID string
					Holders                 []struct{ SourceCustomerID string }
					Cards                   []struct{ Last4 string }
				}
				UserErrors []userErr
			}
		}
		e.query(t, qa, obj{"p": obj{"sourceCustomerIds": []any{"B"}}}, &out)
		assertUserErrors(t, out.UpdateAccount.UserErrors, []userErr{{Path: "patch.primarySourceCustomerId", Code: "INCONSISTENT"}})

		e.query(t, qa, obj{"p": obj{"sourceCustomerIds": []any{"B", "Z"}, "primarySourceCustomerId": "B", "accountCloseDate": "2024-02-01"}}, &out)
		acc := out.UpdateAccount.Account
		if acc == nil {
			t.Fatalf("updateAccount refused: %+v", out.UpdateAccount.UserErrors)
		}
		if acc.Status != "CLOSED" || acc.AccountCloseDate == nil || len(acc.Holders) != 1 || acc.Holders[0].SourceCustomerID != "B" ||
			len(acc.Cards) != 1 || acc.Cards[0].Last4 != "2222" {
			t.Errorf("after replacing holders and closing: got %+v", acc)
		}

		const qc = `mutation($p: CardPatch!) { updateCard(sourceAccountId: "J", sourceCustomerId: "B", last4: "2222", patch: $p) {
			card { status closeDate iin networkIdentifier } userErrors { path code message } } }`
		var cout struct {
			UpdateCard struct {
				Card *struct {
					Status, Iin       string
					CloseDate         *string
					NetworkIdentifier int
				}
				UserErrors []userErr
			}
		}
		e.query(t, qc, obj{"p": obj{"iin": "51234567", "networkIdentifier": "5", "closeDate": "2024-03-01"}}, &cout)
		if k := cout.UpdateCard.Card; k == nil || k.Status != "CLOSED" || k.Iin != "51234567" || k.NetworkIdentifier != 5 {
			t.Errorf("updateCard: got %+v, errors %+v", k, cout.UpdateCard.UserErrors)
		}
		e.query(t, qc, obj{"p": obj{"networkIdentifier": 4}}, &cout)
		assertUserErrors(t, cout.UpdateCard.UserErrors, []userErr{{Path: "patch.networkIdentifier", Code: "INVALID_VALUE"}})
		e.query(t, qc, obj{"p": obj{"status": "OPEN"}}, &cout)
		assertUserErrors(t, cout.UpdateCard.UserErrors, []userErr{{Path: "patch.closeDate", Code: "INCONSISTENT"}})
	})
}

// deleteCustomer removes the customer and its cards; an account goes when no other ingested
// holder remains, otherwise it stays unchanged.
func TestDeleteCustomer(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a := customer("A", "O1")
		a["accounts"] = append(a["accounts"].([]any),
			account("J", []any{"A", "B"}, card("J", "A", "1111", "412345"), card("J", "B", "2222", "412345")),
			account("K", []any{"A", "NOT-INGESTED"}, card("K", "A", "3333", "412345")))
		e.mustIngest(t, a, customer("B", "O1"))
		var before struct{ Customer struct{ ID string } }
		e.query(t, `{ customer(sourceCustomerId: "A") { id } }`, nil, &before)

		const del = `mutation($id: String!) { deleteCustomer(sourceCustomerId: $id) { deletedId userErrors { path code message } } }`
		var out struct {
			DeleteCustomer struct {
				DeletedID  *string
				UserErrors []userErr
			}
		}
		e.query(t, del, obj{"id": "A"}, &out)
		if out.DeleteCustomer.DeletedID == nil || *out.DeleteCustomer.DeletedID != before.Customer.ID {
			t.Fatalf("deletedId: got %v, want %s (errors %+v)", out.DeleteCustomer.DeletedID, before.Customer.ID, out.DeleteCustomer.UserErrors)
		}
		var after struct {
			Customer *struct{ SourceCustomerID string }
			J        *struct {
				SourceCustomerIds []string
				Cards             []struct{ Last4 string }
			}
			K, Own *struct{ SourceAccountID string }
			Cards  struct{ TotalCount int }
		}
		e.query(t, `{ customer(sourceCustomerId: "A") { sourceCustomerId }
			J: account(sourceAccountId: "J") { sourceCustomerIds cards { last4 } }
			K: account(sourceAccountId: "K") { sourceAccountId }
			Own: account(sourceAccountId: "A-A") { sourceAccountId }
			cards { totalCount } }`, nil, &after)
		if after.Customer != nil || after.K != nil || after.Own != nil {
			t.Errorf("customer, its own account and the account with no other ingested holder must be gone: got %+v %+v %+v", after.Customer, after.K, after.Own)
		}
		if after.J == nil || len(after.J.SourceCustomerIds) != 2 || len(after.J.Cards) != 1 || after.J.Cards[0].Last4 != "2222" {
			t.Errorf("joint account must stay unchanged minus A's card: got %+v", after.J)
		}
		if after.Cards.TotalCount != 2 { // B's own card and B's card on J
			t.Errorf("cards left: got %d, want 2", after.Cards.TotalCount)
		}
		e.query(t, del, obj{"id": "A"}, &out)
		assertUserErrors(t, out.DeleteCustomer.UserErrors, []userErr{{Path: "sourceCustomerId", Code: "NOT_FOUND"}})
	})
}

// A mutation's root fields run one after another: what a later one reads through its
// account's holders and its card's holder is the store after the earlier ones, not what an
// earlier field read.
func TestMutationFieldsReadWhatEarlierFieldsWrote(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, customer("C1", "O1"))
		const q = `mutation {
			a: updateCustomer(sourceCustomerId: "C1", patch: {postalCode: "11111"}) {
				customer { accounts { holders { postalCode } cards { customer { postalCode } } } } }
			b: updateCustomer(sourceCustomerId: "C1", patch: {postalCode: "22222"}) {
				customer { postalCode accounts { holders { postalCode } cards { customer { postalCode } } } } } }`
		type side struct {
			Customer struct {
				PostalCode string
				Accounts   []struct {
					Holders []struct{ PostalCode string }
					Cards   []struct{ Customer struct{ PostalCode string } }
				}
			}
		}
		var out struct{ A, B side }
		e.query(t, q, nil, &out)
		for name, s := range map[string]struct {
			got  side
			want string
		}{"a": {out.A, "11111"}, "b": {out.B, "22222"}} {
			accounts := s.got.Customer.Accounts
			if len(accounts) != 1 || len(accounts[0].Holders) != 1 || len(accounts[0].Cards) != 1 {
				t.Fatalf("%s: %+v", name, s.got)
			}
			if h, c := accounts[0].Holders[0].PostalCode, accounts[0].Cards[0].Customer.PostalCode; h != s.want || c != s.want {
				t.Errorf("%s: the holder's postal code %q, the card's holder's %q; want %q", name, h, c, s.want)
			}
		}
	})
}
