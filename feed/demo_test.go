package feed

import (
	"fmt"
	"testing"
	"time"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// The demo portfolio reads like a real one, for every account of it: the holders of a joint
// account are customers of the portfolio in one organization, as are a business and its
// sub-customers; an account opens on or after the creation of each of its holders; a card is
// issued on or after its account's opening, and a closed account's cards were issued and closed
// while it was open; no date is later than the day the portfolio is drawn as of.
func TestDemoIsRealistic(t *testing.T) {
	for _, c := range []struct {
		n    int
		seed uint64
	}{{1000, 1}, {3000, 1}, {1000, 2}, {1000, 3}} { // -demo's, the benchmarks', others
		t.Run(fmt.Sprintf("%d/%d", c.n, c.seed), func(t *testing.T) {
			customers := Demo(c.n, c.seed)
			byID := map[string]*models.CustomerInput{}
			for _, cu := range customers {
				byID[*cu.SourceCustomerID] = cu
			}
			var bad []string
			fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
			var joint, foreignJoint, accounts, early int
			seen := map[string]bool{}
			for _, cu := range customers {
				id := *cu.SourceCustomerID
				for _, d := range []*time.Time{cu.CustomerCreationDate, cu.EnrollmentStartDate, cu.EnrollmentEndDate} {
					if d != nil && d.After(demoAsOf) {
						fail("customer %s: a date after %s: %s", id, demoAsOf, d)
					}
				}
				if p := cu.SourceParentCustomerID; p != nil {
					if parent := byID[*p]; parent == nil || *parent.OrganizationID != *cu.OrganizationID {
						fail("customer %s: its parent %s is not in organization %s", id, *p, *cu.OrganizationID)
					}
				}
				for _, a := range cu.Accounts {
					if seen[*a.SourceAccountID] {
						continue // a joint account's second occurrence: the same account
					}
					seen[*a.SourceAccountID] = true
					accounts++
					if len(a.SourceCustomerIds) > 1 {
						joint++
					}
					open := *a.AccountOpenDate
					orgs := map[string]bool{}
					opensEarly := false
					for _, h := range a.SourceCustomerIds {
						holder := byID[h]
						if holder == nil {
							fail("account %s: holder %s is not in the portfolio", *a.SourceAccountID, h)
							continue
						}
						orgs[*holder.OrganizationID] = true
						if open.Before(*holder.CustomerCreationDate) {
							opensEarly = true
						}
					}
					if len(orgs) > 1 {
						foreignJoint++
					}
					if opensEarly {
						early++
					}
					if a.AccountCloseDate != nil && a.AccountCloseDate.After(demoAsOf) || open.After(demoAsOf) {
						fail("account %s: a date after %s", *a.SourceAccountID, demoAsOf)
					}
					for _, k := range a.Cards {
						key := *a.SourceAccountID + "/" + *k.SourceCustomerID + "/" + *k.Last4
						switch {
						case k.OpenDate.Before(open):
							fail("card %s: issued %s, before its account opened (%s)", key, k.OpenDate, open)
						case k.OpenDate.After(demoAsOf) || k.CloseDate != nil && k.CloseDate.After(demoAsOf):
							fail("card %s: a date after %s", key, demoAsOf)
						case *a.Status != models.AccountStatusClosed:
						case k.OpenDate.After(*a.AccountCloseDate):
							fail("card %s: issued %s, after its account closed (%s)", key, k.OpenDate, a.AccountCloseDate)
						case *k.Status != models.CardStatusClosed || k.CloseDate.After(*a.AccountCloseDate):
							fail("card %s: %s, closed %v, on an account closed %s", key, *k.Status, k.CloseDate, a.AccountCloseDate)
						}
					}
				}
			}
			if foreignJoint > 0 {
				t.Errorf("%d of %d joint accounts have holders in different organizations", foreignJoint, joint)
			}
			if early > 0 {
				t.Errorf("%d of %d accounts open before a holder was created", early, accounts)
			}
			if joint == 0 {
				t.Error("no joint account")
			}
			for i, b := range bad {
				if i == 10 {
					t.Errorf("... and %d more", len(bad)-i)
					break
				}
				t.Error(b)
			}
		})
	}
}
