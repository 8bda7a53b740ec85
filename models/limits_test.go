package models

import (
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// A list over its maximum is one LIMIT_EXCEEDED problem at the list's path, found before any
// item is looked at: a bad item inside it is not reported, because it is never read.
func TestValidateRefusesLongListsWholesale(t *testing.T) {
	holders := func(n int) []string {
		ids := make([]string, n)
		ids[0] = "C1"
		for i := 1; i < n; i++ {
			ids[i] = fmt.Sprintf("H%06d", i)
		}
		ids[n/2] = "bad\x00id"
		return ids
	}
	cases := []struct {
		name string
		edit func(c *CustomerInput)
		path string
	}{
		{"100,000 holders", func(c *CustomerInput) { c.Accounts[0].SourceCustomerIds = holders(100000) }, "customers[0].accounts[0].sourceCustomerIds"},
		{"holders one over", func(c *CustomerInput) { c.Accounts[0].SourceCustomerIds = holders(MaxHoldersPerAccount + 1) }, "customers[0].accounts[0].sourceCustomerIds"},
		{"accounts", func(c *CustomerInput) {
			a := c.Accounts[0]
			c.Accounts = make([]*AccountInput, MaxAccountsPerCustomer+1)
			for i := range c.Accounts {
				c.Accounts[i] = a
			}
			c.Accounts[7] = nil
		}, "customers[0].accounts"},
		{"cards", func(c *CustomerInput) {
			k := c.Accounts[0].Cards[0]
			c.Accounts[0].Cards = make([]*CardInput, MaxCardsPerAccount+1)
			for i := range c.Accounts[0].Cards {
				c.Accounts[0].Cards[i] = k
			}
			c.Accounts[0].Cards[7] = nil
		}, "customers[0].accounts[0].cards"},
		{"alerts", func(c *CustomerInput) {
			c.AlertOptInStatus = make([]AlertOptInStatus, MaxAlertValues+1)
			for i := range c.AlertOptInStatus {
				c.AlertOptInStatus[i] = AlertOptInStatusNew
			}
			c.AlertOptInStatus[7] = "BAD"
		}, "customers[0].alertOptInStatus"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := validCustomer("C1")
			c.edit(in)
			errs, invalid := ValidateCustomers([]*CustomerInput{in})
			if got, want := problemSet(errs), c.path+" LIMIT_EXCEEDED"; got != want || !invalid[0] {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
	t.Run("at the maxima", func(t *testing.T) {
		if errs, _ := ValidateCustomers(maximalBatch()); len(errs) > 0 {
			t.Fatalf("a batch at the maxima is valid, got %s", problemSet(errs[:min(len(errs), 5)]))
		}
	})
	t.Run("patch", func(t *testing.T) {
		old := &Account{SourceAccountID: "A", SourceCustomerIDs: []string{"C1"}, PrimarySourceCustomerID: "C1", Status: AccountStatusOpen}
		patch := AccountPatch{SourceCustomerIDs: graphql.OmittableOf(holders(100000))}
		if _, errs := ApplyAccountPatch(old, patch); problemSet(errs) != "patch.sourceCustomerIds LIMIT_EXCEEDED" {
			t.Errorf("got %s", problemSet(errs))
		}
	})
}

// maximalBatch is the batch the cross-customer rules work hardest on: the most customers, in
// groups of MaxHoldersPerAccount that each share a joint account of that many holders; the
// account is listed under every holder, each time with the same 10 cards, so every occurrence
// is compared with the first (holder sets and cards).
func maximalBatch() []*CustomerInput {
	const customers = 1000
	in := make([]*CustomerInput, customers)
	for g := 0; g < customers/MaxHoldersPerAccount; g++ {
		holders := make([]string, MaxHoldersPerAccount)
		for h := range holders {
			holders[h] = fmt.Sprintf("C%04d", g*MaxHoldersPerAccount+h)
		}
		joint := fmt.Sprintf("J%02d", g)
		for h, id := range holders {
			c := validCustomer(id)
			a := *c.Accounts[0]
			a.SourceAccountID = new(joint)
			a.SourceCustomerIds = holders
			a.PrimarySourceCustomerID = new(holders[0])
			a.Cards = nil
			for k := range 10 {
				card := *c.Accounts[0].Cards[0]
				card.SourceAccountID = new(joint)
				card.SourceCustomerID = new(holders[k])
				card.Last4 = new(fmt.Sprintf("%04d", k))
				a.Cards = append(a.Cards, &card)
			}
			c.Accounts = append(c.Accounts, &a)
			in[g*MaxHoldersPerAccount+h] = c
		}
	}
	return in
}

// BenchmarkValidateMaximalBatch measures validating maximalBatch (go test -bench
// ValidateMaximalBatch ./models).
func BenchmarkValidateMaximalBatch(b *testing.B) {
	in := maximalBatch()
	b.ReportAllocs()
	for b.Loop() {
		if errs, _ := ValidateCustomers(in); len(errs) > 0 {
			b.Fatal(problemSet(errs))
		}
	}
}

func TestTextProblem(t *testing.T) {
	for s, bad := range map[string]bool{
		"plain": false, "": false, "é 😀": false, "\ufffd": false, "tab\there": false,
		"nul\x00": true, "bad\xff": true, "\xed\xa0\x80": true, string(InvalidTextMarker): true,
		"\ufffe": true, "\ufdd0": true, "\U0010FFFF": true, "\U0001FFFE": true,
	} {
		if got := TextProblem(s); (got != "") != bad {
			t.Errorf("TextProblem(%q) = %q, want a problem: %v", s, got, bad)
		}
	}
	var p problems
	if p.checkID(pathAt("x"), "id", "a"+string(InvalidTextMarker)); problemSet(p) != "x INVALID_FORMAT" || !strings.Contains(p[0].Message, "not valid text") {
		t.Errorf("the marker in an id: %+v", p)
	}
}

// Every DateTime the API accepts can be written back in RFC 3339: its UTC value lies within
// years 0001-9999.
func TestParseDateTimeYearRange(t *testing.T) {
	for s, ok := range map[string]bool{
		"9999-12-31T23:59:59Z":      true,
		"9999-12-31T13:59:59-10:00": true,
		"0001-01-01T00:00:00Z":      true,
		"0001-01-01T01:00:00+01:00": true,
		"9999-12-31":                true,
		"9999-12-31T23:59:59-10:00": false,
		"0001-01-01T00:00:00+01:00": false,
		"0000-01-01":                false,
		"0000-12-31T23:00:00-01:00": true,
	} {
		got, err := ParseDateTime(s)
		if (err == nil) != ok {
			t.Errorf("ParseDateTime(%q) = %v, %v; want accepted: %v", s, got, err, ok)
			continue
		}
		if err == nil {
			if back, err := ParseDateTime(FormatDateTime(got)); err != nil || !back.Equal(got) {
				t.Errorf("%q read back as %s, which does not parse back: %v", s, FormatDateTime(got), err)
			}
		}
	}
}
