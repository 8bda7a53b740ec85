package main

import (
	"testing"
)

type bucket struct {
	Key   string
	Count int
}

func bucketMap(bs []bucket) map[string]int {
	m := map[string]int{}
	for _, b := range bs {
		if b.Count == 0 {
			m["zero:"+b.Key] = 0
		}
		m[b.Key] = b.Count
	}
	return m
}

// portfolioStats counts the selected customers and the accounts and cards visible through them.
func TestPortfolioStats(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, filterPortfolio()...)
		const q = `query($f: CustomerFilter) { portfolioStats(filter: $f) {
			customers accounts cards
			customersByEnrollmentOptInStatus { key count } customersByTargetingIndicator { key count }
			customersByCountry { key count } customersByOrganization { key count }
			accountsByType { key count } accountsByStatus { key count }
			cardsByNetwork { key count } cardsByType { key count } cardsByStatus { key count }
			enrollmentsByMonth { key count } } }`
		type stats struct {
			Customers, Accounts, Cards                                      int
			CustomersByEnrollmentOptInStatus, CustomersByTargetingIndicator []bucket
			CustomersByCountry, CustomersByOrganization                     []bucket
			AccountsByType, AccountsByStatus                                []bucket
			CardsByNetwork, CardsByType, CardsByStatus                      []bucket
			EnrollmentsByMonth                                              []bucket
		}
		var all struct{ PortfolioStats stats }
		e.query(t, q, nil, &all)
		s := all.PortfolioStats
		if s.Customers != 3 || s.Accounts != 4 || s.Cards != 5 {
			t.Errorf("totals: got %d/%d/%d, want 3 customers, 4 accounts, 5 cards", s.Customers, s.Accounts, s.Cards)
		}
		checks := []struct {
			name string
			got  []bucket
			want map[string]int
		}{
			{"enrollment", s.CustomersByEnrollmentOptInStatus, map[string]int{"ACTIVE": 2, "INACTIVE": 1}},
			{"targeting", s.CustomersByTargetingIndicator, map[string]int{"TARGET": 2, "DO_NOT_TARGET": 1}},
			{"country", s.CustomersByCountry, map[string]int{"US": 2, "GB": 1}},
			{"organization", s.CustomersByOrganization, map[string]int{"O1": 2, "O2": 1}},
			{"account type", s.AccountsByType, map[string]int{"DDA": 3, "CRD": 1}},
			{"account status", s.AccountsByStatus, map[string]int{"OPEN": 3, "CLOSED": 1}},
			{"network", s.CardsByNetwork, map[string]int{"VISA": 4, "DISCOVER": 1}},
			{"card type", s.CardsByType, map[string]int{"DEBIT": 4, "CREDIT": 1}},
			{"card status", s.CardsByStatus, map[string]int{"OPEN": 3, "CLOSED": 2}},
			{"months", s.EnrollmentsByMonth, map[string]int{"2023-01": 2, "2024-03": 1}},
		}
		for _, c := range checks {
			got := bucketMap(c.got)
			if len(got) != len(c.want) {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
				continue
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s: got %v, want %v", c.name, got, c.want)
					break
				}
			}
		}
		if s.EnrollmentsByMonth[0].Key != "2023-01" {
			t.Errorf("months must be in month order: got %v", s.EnrollmentsByMonth)
		}

		var o2 struct{ PortfolioStats stats }
		e.query(t, q, obj{"f": obj{"organizationIds": []any{"O2"}}}, &o2)
		// C holds its own account (1 card) and the joint account with A (2 cards).
		if s := o2.PortfolioStats; s.Customers != 1 || s.Accounts != 2 || s.Cards != 3 {
			t.Errorf("O2: got %d/%d/%d, want 1 customer, 2 accounts, 3 cards", s.Customers, s.Accounts, s.Cards)
		}
		var none struct{ PortfolioStats stats }
		e.query(t, q, obj{"f": obj{"countries": []any{"FR"}}}, &none)
		if s := none.PortfolioStats; s.Customers != 0 || s.Accounts != 0 || len(s.CustomersByCountry) != 0 || len(s.CardsByNetwork) != 0 {
			t.Errorf("no customers selected: got %+v, want zeros and no buckets", s)
		}
	})
}
