package models

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func date(s string) *time.Time {
	t, err := ParseDateTime(s)
	if err != nil {
		panic(err)
	}
	return &t
}

// validCustomer is a customer that breaks no rule: one account it holds alone, one card.
func validCustomer(id string) *CustomerInput {
	acc := "A-" + id
	return &CustomerInput{
		SourceCustomerID:      new(id),
		OrganizationID:        new("50004"),
		PostalCode:            new("78753"),
		Country:               new("US"),
		CustomerCreationDate:  date("2017-01-01T08:00:00Z"),
		EnrollmentStartDate:   date("2023-01-01T08:00:00Z"),
		EnrollmentOptInStatus: new(EnrollmentOptInStatusActive),
		AlertOptInStatus:      []AlertOptInStatus{AlertOptInStatusAll},
		TargetingIndicator:    new(CustomerTargetingIndicatorTarget),
		Accounts: []*AccountInput{{
			SourceAccountID:         new(acc),
			SourceCustomerIds:       []string{id},
			PrimarySourceCustomerID: new(id),
			Status:                  new(AccountStatusOpen),
			Type:                    new(AccountTypeDda),
			SourcePortfolioID:       new("P-1"),
			AccountOpenDate:         date("2018-05-12T20:30:00Z"),
			Cards: []*CardInput{{
				SourceAccountID:   new(acc),
				SourceCustomerID:  new(id),
				Last4:             new("0042"),
				Iin:               new("412345"),
				CardType:          new(CardTypeDebit),
				Status:            new(CardStatusOpen),
				NetworkIdentifier: new(4),
				OpenDate:          date("2023-01-01"),
			}},
		}},
	}
}

func problemSet(ps []UserError) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Path+" "+string(p.Code))
	}
	return strings.Join(out, "; ")
}

// Every rule of the data (REFERENCE.md), each at its exact path with its code.
func TestValidateCustomerRules(t *testing.T) {
	const c0, a0, k0 = "customers[0].", "customers[0].accounts[0].", "customers[0].accounts[0].cards[0]."
	acc := func(c *CustomerInput) *AccountInput { return c.Accounts[0] }
	card := func(c *CustomerInput) *CardInput { return c.Accounts[0].Cards[0] }
	cases := []struct {
		name   string
		change func(c *CustomerInput)
		want   string
	}{
		{"valid", func(c *CustomerInput) {}, ""},
		{"id missing", func(c *CustomerInput) { c.SourceCustomerID = nil }, c0 + "sourceCustomerId REQUIRED"},
		{"id empty", func(c *CustomerInput) { c.SourceCustomerID = new("") }, c0 + "sourceCustomerId INVALID_VALUE"},
		{"id 120 chars", func(c *CustomerInput) {
			*c = *validCustomer(strings.Repeat("é", 118)) // its account is "A-" + id: 120 too
			c.SourceCustomerID = new(strings.Repeat("é", 120))
			c.Accounts[0].SourceCustomerIds = append(c.Accounts[0].SourceCustomerIds, *c.SourceCustomerID)
		}, ""},
		{"id 121 chars", func(c *CustomerInput) { c.SourceCustomerID = new(strings.Repeat("x", 121)) }, c0 + "sourceCustomerId TOO_LONG"},
		{"id leading space", func(c *CustomerInput) { c.OrganizationID = new(" 5") }, c0 + "organizationId INVALID_FORMAT"},
		{"id trailing space", func(c *CustomerInput) { acc(c).SourcePortfolioID = new("P ") }, a0 + "sourcePortfolioId INVALID_FORMAT"},
		{"id control char", func(c *CustomerInput) { c.SourceParentCustomerID = new("a\tb") }, c0 + "sourceParentCustomerId INVALID_FORMAT"},
		{"parent is self", func(c *CustomerInput) { c.SourceParentCustomerID = new("C1") }, c0 + "sourceParentCustomerId INCONSISTENT"},
		{"org missing", func(c *CustomerInput) { c.OrganizationID = nil }, c0 + "organizationId REQUIRED"},
		{"postal missing", func(c *CustomerInput) { c.PostalCode = nil }, c0 + "postalCode REQUIRED"},
		{"postal UK", func(c *CustomerInput) { c.PostalCode = new("SW1A 1AA") }, ""},
		{"postal ZIP+4", func(c *CustomerInput) { c.PostalCode = new("78753-1234") }, ""},
		{"postal bad char", func(c *CustomerInput) { c.PostalCode = new("787_53") }, c0 + "postalCode INVALID_FORMAT"},
		{"postal too long", func(c *CustomerInput) { c.PostalCode = new(strings.Repeat("1", 17)) }, c0 + "postalCode TOO_LONG"},
		{"postal empty", func(c *CustomerInput) { c.PostalCode = new("") }, c0 + "postalCode INVALID_VALUE"},
		{"country lower case", func(c *CustomerInput) { c.Country = new("gb") }, ""},
		{"country three letters", func(c *CustomerInput) { c.Country = new("USA") }, c0 + "country INVALID_FORMAT"},
		{"country digits", func(c *CustomerInput) { c.Country = new("U1") }, c0 + "country INVALID_FORMAT"},
		{"country unassigned", func(c *CustomerInput) { c.Country = new("XX") }, c0 + "country INVALID_VALUE"},
		{"creation missing", func(c *CustomerInput) { c.CustomerCreationDate = nil }, c0 + "customerCreationDate REQUIRED"},
		{"enrollment start missing", func(c *CustomerInput) { c.EnrollmentStartDate = nil }, c0 + "enrollmentStartDate REQUIRED"},
		{"enrollment end equal to start", func(c *CustomerInput) { c.EnrollmentEndDate = c.EnrollmentStartDate }, ""},
		{"enrollment end before start", func(c *CustomerInput) { c.EnrollmentEndDate = date("2022-12-31") }, c0 + "enrollmentEndDate INCONSISTENT"},
		{"opt-in missing", func(c *CustomerInput) { c.EnrollmentOptInStatus = nil }, c0 + "enrollmentOptInStatus REQUIRED"},
		{"opt-in unknown", func(c *CustomerInput) { c.EnrollmentOptInStatus = new(EnrollmentOptInStatus("MAYBE")) }, c0 + "enrollmentOptInStatus INVALID_VALUE"},
		{"alerts missing", func(c *CustomerInput) { c.AlertOptInStatus = nil }, c0 + "alertOptInStatus REQUIRED"},
		{"alerts empty", func(c *CustomerInput) { c.AlertOptInStatus = []AlertOptInStatus{} }, c0 + "alertOptInStatus INVALID_VALUE"},
		{"alerts duplicates collapse", func(c *CustomerInput) { c.AlertOptInStatus = []AlertOptInStatus{"NEW", "NEW", "EXPIRING"} }, ""},
		{"alerts ALL twice", func(c *CustomerInput) { c.AlertOptInStatus = []AlertOptInStatus{"ALL", "ALL"} }, ""},
		{"alerts ALL with others", func(c *CustomerInput) { c.AlertOptInStatus = []AlertOptInStatus{"ALL", "NEW"} }, c0 + "alertOptInStatus INVALID_VALUE"},
		{"alerts unknown", func(c *CustomerInput) { c.AlertOptInStatus = []AlertOptInStatus{"NEW", "EMAIL"} }, c0 + "alertOptInStatus[1] INVALID_VALUE"},
		{"targeting missing", func(c *CustomerInput) { c.TargetingIndicator = nil }, c0 + "targetingIndicator REQUIRED"},
		{"redemption unknown", func(c *CustomerInput) { c.RedemptionEligibility = new(RedemptionEligibility("SOME")) }, c0 + "redemptionEligibility INVALID_VALUE"},
		{"accounts missing", func(c *CustomerInput) { c.Accounts = nil }, c0 + "accounts REQUIRED"},
		{"accounts empty", func(c *CustomerInput) { c.Accounts = []*AccountInput{} }, c0 + "accounts INVALID_VALUE"},

		{"account id missing", func(c *CustomerInput) { acc(c).SourceAccountID = nil }, a0 + "sourceAccountId REQUIRED"},
		{"holders missing", func(c *CustomerInput) { acc(c).SourceCustomerIds = nil }, a0 + "sourceCustomerIds REQUIRED"},
		{"holders empty", func(c *CustomerInput) { acc(c).SourceCustomerIds = []string{} }, a0 + "sourceCustomerIds INVALID_VALUE"},
		{"holder twice", func(c *CustomerInput) { acc(c).SourceCustomerIds = []string{"C1", "C2", "C1"} }, a0 + "sourceCustomerIds[2] INVALID_VALUE"},
		{"holder bad id", func(c *CustomerInput) { acc(c).SourceCustomerIds = []string{"C1", ""} }, a0 + "sourceCustomerIds[1] INVALID_VALUE"},
		{"enclosing not a holder", func(c *CustomerInput) {
			acc(c).SourceCustomerIds, acc(c).PrimarySourceCustomerID = []string{"C2"}, new("C2")
			card(c).SourceCustomerID = new("C2")
		}, a0 + "sourceCustomerIds INCONSISTENT"},
		{"joint holders not ingested", func(c *CustomerInput) { acc(c).SourceCustomerIds = []string{"C1", "NOT-YET"} }, ""},
		{"primary missing", func(c *CustomerInput) { acc(c).PrimarySourceCustomerID = nil }, a0 + "primarySourceCustomerId REQUIRED"},
		{"primary not a holder", func(c *CustomerInput) { acc(c).PrimarySourceCustomerID = new("C9") }, a0 + "primarySourceCustomerId INCONSISTENT"},
		{"status missing", func(c *CustomerInput) { acc(c).Status = nil }, a0 + "status REQUIRED"},
		{"type unknown", func(c *CustomerInput) { acc(c).Type = new(AccountType("CREDIT")) }, a0 + "type INVALID_VALUE"},
		{"portfolio missing", func(c *CustomerInput) { acc(c).SourcePortfolioID = nil }, a0 + "sourcePortfolioId REQUIRED"},
		{"portfolio 36 chars", func(c *CustomerInput) { acc(c).SourcePortfolioID = new("76afcd28-b494-4b29-b7f2-3eb614a92f97") }, ""},
		{"open date missing", func(c *CustomerInput) { acc(c).AccountOpenDate = nil }, a0 + "accountOpenDate REQUIRED"},
		{"closed without close date", func(c *CustomerInput) { acc(c).Status = new(AccountStatusClosed) }, a0 + "accountCloseDate INCONSISTENT"},
		{"closed with close date", func(c *CustomerInput) {
			acc(c).Status, acc(c).AccountCloseDate = new(AccountStatusClosed), date("2020-01-01")
		}, ""},
		{"open with close date", func(c *CustomerInput) { acc(c).AccountCloseDate = date("2020-01-01") }, a0 + "accountCloseDate INCONSISTENT"},
		{"fraud with close date", func(c *CustomerInput) {
			acc(c).Status, acc(c).AccountCloseDate = new(AccountStatusFraud), date("2020-01-01")
		}, ""},
		{"close before open", func(c *CustomerInput) {
			acc(c).Status, acc(c).AccountCloseDate = new(AccountStatusClosed), date("2018-05-12")
		}, a0 + "accountCloseDate INCONSISTENT"},
		{"close equal to open", func(c *CustomerInput) {
			acc(c).Status, acc(c).AccountCloseDate = new(AccountStatusClosed), acc(c).AccountOpenDate
		}, ""},
		{"cards missing", func(c *CustomerInput) { acc(c).Cards = nil }, a0 + "cards REQUIRED"},
		{"cards empty", func(c *CustomerInput) { acc(c).Cards = []*CardInput{} }, ""},

		{"card account differs", func(c *CustomerInput) { card(c).SourceAccountID = new("OTHER") }, k0 + "sourceAccountId INCONSISTENT"},
		{"card holder not a holder", func(c *CustomerInput) { card(c).SourceCustomerID = new("C9") }, k0 + "sourceCustomerId INCONSISTENT"},
		{"card holder missing", func(c *CustomerInput) { card(c).SourceCustomerID = nil }, k0 + "sourceCustomerId REQUIRED"},
		{"last4 missing", func(c *CustomerInput) { card(c).Last4 = nil }, k0 + "last4 REQUIRED"},
		{"last4 three digits", func(c *CustomerInput) { card(c).Last4 = new("123") }, k0 + "last4 INVALID_FORMAT"},
		{"last4 letters", func(c *CustomerInput) { card(c).Last4 = new("12a4") }, k0 + "last4 INVALID_FORMAT"},
		{"last4 non-ASCII digits", func(c *CustomerInput) { card(c).Last4 = new("١٢٣٤") }, k0 + "last4 INVALID_FORMAT"},
		{"iin 8 digits", func(c *CustomerInput) { card(c).Iin = new("41234567") }, ""},
		{"iin 7 digits", func(c *CustomerInput) { card(c).Iin = new("4123456") }, k0 + "iin INVALID_FORMAT"},
		{"iin missing", func(c *CustomerInput) { card(c).Iin = nil }, k0 + "iin REQUIRED"},
		{"card type missing", func(c *CustomerInput) { card(c).CardType = nil }, k0 + "cardType REQUIRED"},
		{"card status unknown", func(c *CustomerInput) { card(c).Status = new(CardStatus("LOST")) }, k0 + "status INVALID_VALUE"},
		{"network missing", func(c *CustomerInput) { card(c).NetworkIdentifier = nil }, k0 + "networkIdentifier REQUIRED"},
		{"network 7", func(c *CustomerInput) { card(c).NetworkIdentifier = new(7) }, k0 + "networkIdentifier INVALID_VALUE"},
		{"network contradicts IIN", func(c *CustomerInput) { card(c).NetworkIdentifier = new(5) }, k0 + "networkIdentifier INVALID_VALUE"},
		{"network with IIN outside 3-6", func(c *CustomerInput) { card(c).Iin, card(c).NetworkIdentifier = new("123456"), new(3) }, ""},
		{"card open date missing", func(c *CustomerInput) { card(c).OpenDate = nil }, k0 + "openDate REQUIRED"},
		{"card closed without date", func(c *CustomerInput) { card(c).Status = new(CardStatusClosed) }, k0 + "closeDate INCONSISTENT"},
		{"card open with date", func(c *CustomerInput) { card(c).CloseDate = date("2024-01-01") }, k0 + "closeDate INCONSISTENT"},
		{"card close before open", func(c *CustomerInput) {
			card(c).Status, card(c).CloseDate = new(CardStatusClosed), date("2022-01-01")
		}, k0 + "closeDate INCONSISTENT"},
		{"account null", func(c *CustomerInput) { c.Accounts[0] = nil }, "customers[0].accounts[0] REQUIRED"},
		{"card null", func(c *CustomerInput) { acc(c).Cards[0] = nil }, "customers[0].accounts[0].cards[0] REQUIRED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validCustomer("C1")
			tc.change(c)
			problems, invalid := ValidateCustomers([]*CustomerInput{c})
			if got := problemSet(problems); got != tc.want {
				t.Fatalf("got %q, want %q (%+v)", got, tc.want, problems)
			}
			if invalid[0] != (tc.want != "") {
				t.Errorf("invalid: got %v", invalid[0])
			}
			for _, p := range problems {
				if p.Message == "" {
					t.Errorf("%s: empty message", p.Path)
				}
			}
		})
	}
}

// Rules across a batch: the same customer twice, joint account occurrences, cards twice.
func TestValidateBatchRules(t *testing.T) {
	joint := func(a, b string, mod func(*AccountInput)) (*CustomerInput, *CustomerInput) {
		ca, cb := validCustomer(a), validCustomer(b)
		mk := func(holder string) *AccountInput {
			j := *validCustomer(holder).Accounts[0]
			j.SourceAccountID, j.SourceCustomerIds, j.PrimarySourceCustomerID = new("J"), []string{a, b}, new(a)
			k := *j.Cards[0]
			k.SourceAccountID = new("J")
			j.Cards = []*CardInput{&k}
			return &j
		}
		ja, jb := mk(a), mk(b)
		if mod != nil {
			mod(jb)
		}
		ca.Accounts = append(ca.Accounts, ja)
		cb.Accounts = append(cb.Accounts, jb)
		return ca, cb
	}
	t.Run("duplicate customer", func(t *testing.T) {
		problems, invalid := ValidateCustomers([]*CustomerInput{validCustomer("C1"), validCustomer("C2"), validCustomer("C1")})
		if got := problemSet(problems); got != "customers[2].sourceCustomerId DUPLICATE" || !strings.Contains(problems[0].Message, "customers[0]") {
			t.Fatalf("got %q %+v", got, problems)
		}
		if invalid[0] || invalid[1] || !invalid[2] {
			t.Errorf("invalid: %v", invalid)
		}
	})
	t.Run("joint account under both holders", func(t *testing.T) {
		a, b := joint("A", "B", nil)
		problems, _ := ValidateCustomers([]*CustomerInput{a, b})
		if len(problems) != 0 {
			t.Fatalf("got %+v", problems)
		}
		rows := BuildRows([]*CustomerInput{a, b}, func(int) bool { return true })
		if len(rows.Accounts) != 3 || len(rows.Cards) != 4 {
			t.Errorf("rows: %d accounts, %d cards; want 3 accounts (2 own, 1 joint) and 4 cards (the joint one's unioned)", len(rows.Accounts), len(rows.Cards))
		}
	})
	for name, mod := range map[string]func(*AccountInput){
		"type":      func(j *AccountInput) { j.Type = new(AccountTypeSav) },
		"holders":   func(j *AccountInput) { j.SourceCustomerIds = []string{"A", "B", "C"} },
		"primary":   func(j *AccountInput) { j.PrimarySourceCustomerID = new("B") },
		"close":     func(j *AccountInput) { j.Status, j.AccountCloseDate = new(AccountStatusClosed), date("2024-01-01") },
		"portfolio": func(j *AccountInput) { j.SourcePortfolioID = new("P-2") },
	} {
		t.Run("joint account differs in "+name, func(t *testing.T) {
			a, b := joint("A", "B", mod)
			problems, invalid := ValidateCustomers([]*CustomerInput{a, b})
			if got := problemSet(problems); got != "customers[1].accounts[1] CONFLICT" || !strings.Contains(problems[0].Message, "customers[0].accounts[1]") {
				t.Fatalf("got %q %+v", got, problems)
			}
			if invalid[0] || !invalid[1] {
				t.Errorf("invalid: %v", invalid)
			}
		})
	}
	t.Run("holders in another order are the same set", func(t *testing.T) {
		a, b := joint("A", "B", func(j *AccountInput) { j.SourceCustomerIds = []string{"B", "A"} })
		if problems, _ := ValidateCustomers([]*CustomerInput{a, b}); len(problems) != 0 {
			t.Fatalf("got %+v", problems)
		}
	})
	t.Run("same card with different data", func(t *testing.T) {
		a, b := joint("A", "B", func(j *AccountInput) {
			j.Cards[0].SourceCustomerID, j.Cards[0].Iin = new("A"), new("498765")
		})
		problems, _ := ValidateCustomers([]*CustomerInput{a, b})
		if got := problemSet(problems); got != "customers[1].accounts[1].cards[0] CONFLICT" || !strings.Contains(problems[0].Message, "at customers[0].accounts[1].cards[0]") {
			t.Fatalf("got %q: %s", got, problems[0].Message)
		}
	})
}

// Rows normalise what is stored: upper-case country, alert opt-ins as an ordered set.
func TestBuildRowsNormalises(t *testing.T) {
	c := validCustomer("C1")
	c.Country = new("gb")
	c.AlertOptInStatus = []AlertOptInStatus{"REDEMPTION", "NEW", "REDEMPTION"}
	rows := BuildRows([]*CustomerInput{c, validCustomer("C2")}, func(i int) bool { return i == 0 })
	if len(rows.Customers) != 1 || rows.CustomerIndex[0] != 0 {
		t.Fatalf("include: got %d customers", len(rows.Customers))
	}
	got := rows.Customers[0]
	if got.Country != "GB" || fmt.Sprint(got.AlertOptInStatus) != "[NEW REDEMPTION]" {
		t.Errorf("got country %s, alerts %v", got.Country, got.AlertOptInStatus)
	}
}

// The reference example of the publisher format (testdata/reference-example.json) passes unchanged.
func TestReferenceExampleIsValid(t *testing.T) {
	batch, err := decodeBatch(readReference(t))
	if err != nil {
		t.Fatal(err)
	}
	if problems, _ := ValidateCustomers(batch); len(problems) > 0 {
		t.Fatalf("reference example: %+v", problems)
	}
}
