package feed

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// demoAsOf is the day the demo portfolio is drawn as of: no date in it is later.
var demoAsOf = time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)

// Demo returns a deterministic synthetic portfolio of n customers that follows every rule of
// the data (REFERENCE.md): five organizations, businesses with sub-customers, joint accounts
// listed under each holder, closed accounts and cards, the four networks. The same seed gives
// the same portfolio. It reads like a real one: a business's sub-customers and the holders of
// a joint account are in one organization; an account opens on or after the creation of each
// of its holders, its cards are issued on or after its opening, and a closed account's cards
// were issued and closed while it was open; no date is later than demoAsOf. The first
// customer, DEMO-C000001, holds the card of the README's examples (last4 2345, IIN 123456).
func Demo(n int, seed uint64) []*models.CustomerInput {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	base := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	d := demoDates{r}
	day := d.within
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	out := make([]*models.CustomerInput, 0, n)
	var parent *models.CustomerInput
	for i := range n {
		id := fmt.Sprintf("DEMO-C%06d", i+1)
		org := fmt.Sprintf("5000%d", 1+r.IntN(5))
		// A sub-customer is in its business's organization, and the holders of a joint account
		// (this customer and the previous one, below) in one organization.
		switch {
		case i%20 != 0 && i%20 <= 3 && parent != nil:
			org = *parent.OrganizationID
		case i%7 == 6 && i > 0:
			org = *out[i-1].OrganizationID
		}
		country, postal := "US", fmt.Sprintf("%05d", r.IntN(100000))
		switch r.IntN(10) {
		case 0:
			country, postal = "GB", pick("SW1A 1AA", "EC1A 1BB", "M1 1AE", "B33 8TH")
		case 1:
			country, postal = "CA", pick("K1A 0B1", "M5V 3L9", "H2Y 1C6")
		}
		created := day(base, 12*365)
		start := day(*created, 365)
		c := &models.CustomerInput{
			SourceCustomerID:      new(id),
			OrganizationID:        new(org),
			PostalCode:            new(postal),
			Country:               new(country),
			CustomerCreationDate:  created,
			EnrollmentStartDate:   start,
			EnrollmentOptInStatus: new(models.EnrollmentOptInStatusActive),
			AlertOptInStatus:      []models.AlertOptInStatus{models.AlertOptInStatusAll},
			TargetingIndicator:    new(models.CustomerTargetingIndicatorTarget),
		}
		if r.IntN(8) == 0 {
			c.EnrollmentOptInStatus = new(models.EnrollmentOptInStatusInactive)
			c.EnrollmentEndDate = day(*start, 700)
		}
		if r.IntN(3) == 0 {
			c.AlertOptInStatus = []models.AlertOptInStatus{models.AlertOptInStatusNew, models.AlertOptInStatusExpiring, models.AlertOptInStatusRedemption}[:1+r.IntN(3)]
		}
		if r.IntN(10) == 0 {
			c.TargetingIndicator = new(models.CustomerTargetingIndicatorDoNotTarget)
		}
		if r.IntN(4) == 0 {
			c.RedemptionEligibility = new([]models.RedemptionEligibility{models.RedemptionEligibilityAll, models.RedemptionEligibilityNone}[r.IntN(2)])
		}
		// Every 20th customer is a business; the next few are its sub-customers.
		switch {
		case i%20 == 0:
			parent = c
		case i%20 <= 3 && parent != nil:
			c.SourceParentCustomerID = parent.SourceCustomerID
		}
		for j := range 1 + r.IntN(3) {
			c.Accounts = append(c.Accounts, demoAccount(r, d, fmt.Sprintf("DEMO-A%06d-%d", i+1, j+1), []string{id}, *created))
		}
		if i == 0 {
			c.Accounts = append(c.Accounts, demoExampleAccount(fmt.Sprintf("DEMO-A%06d-%d", i+1, len(c.Accounts)+1), id, *created))
		}
		// Every 7th customer shares a joint account with the previous one, listed under both;
		// it opens once both were created.
		if i%7 == 6 && i > 0 {
			prev := out[i-1]
			opens := *created
			if prev.CustomerCreationDate.After(opens) {
				opens = *prev.CustomerCreationDate
			}
			joint := demoAccount(r, d, fmt.Sprintf("DEMO-J%06d", i+1), []string{*prev.SourceCustomerID, id}, opens)
			prev.Accounts = append(prev.Accounts, joint)
			c.Accounts = append(c.Accounts, joint)
		}
		out = append(out, c)
	}
	return out
}

var (
	demoAccountTypes = []models.AccountType{models.AccountTypeDda, models.AccountTypeDda, models.AccountTypeCrd, models.AccountTypeCrd, models.AccountTypeSav, models.AccountTypeMma, models.AccountTypePpd, models.AccountTypeSbdda, models.AccountTypeSbcrd, models.AccountTypeSbs}
	demoIINs         = map[int][]string{3: {"371234", "378282"}, 4: {"411111", "424242", "45678901"}, 5: {"510510", "555555"}, 6: {"601100", "65432101"}}
)

// demoExampleAccount is the credit account of the customer id, created at created, with the
// card of the README's and the console's examples: last4 2345 and IIN 123456, the card of the
// publisher's reference example. It draws nothing from the random source, so the rest of the
// portfolio is what it would be without it.
func demoExampleAccount(id, customer string, created time.Time) *models.AccountInput {
	open := created.AddDate(0, 0, 30)
	return &models.AccountInput{
		SourceAccountID:         new(id),
		SourceCustomerIds:       []string{customer},
		PrimarySourceCustomerID: new(customer),
		Status:                  new(models.AccountStatusOpen),
		Type:                    new(models.AccountTypeCrd),
		SourcePortfolioID:       new("DEMO-P1"),
		AccountOpenDate:         &open,
		Cards: []*models.CardInput{{
			SourceAccountID:   new(id),
			SourceCustomerID:  new(customer),
			Last4:             new("2345"),
			Iin:               new("123456"),
			CardType:          new(models.CardTypeCredit),
			Status:            new(models.CardStatusOpen),
			NetworkIdentifier: new(3),
			OpenDate:          new(open.AddDate(0, 0, 7)),
		}},
	}
}

// demoDates draws the demo's dates.
type demoDates struct{ r *rand.Rand }

// between is a moment from from to to, to the second; from when to is not later.
func (d demoDates) between(from, to time.Time) *time.Time {
	t := from
	if secs := int64(to.Sub(from) / time.Second); secs > 0 {
		t = from.Add(time.Duration(d.r.Int64N(secs+1)) * time.Second)
	}
	return &t
}

// within is a moment from from to maxDays days later, never later than demoAsOf.
func (d demoDates) within(from time.Time, maxDays int) *time.Time {
	return d.between(from, earliest(from.AddDate(0, 0, maxDays), demoAsOf))
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// demoAccount draws an account of holders, the latest of whom was created at created, with
// its cards.
func demoAccount(r *rand.Rand, d demoDates, id string, holders []string, created time.Time) *models.AccountInput {
	typ := demoAccountTypes[r.IntN(len(demoAccountTypes))]
	open := d.within(created, 2*365)
	a := &models.AccountInput{
		SourceAccountID:         new(id),
		SourceCustomerIds:       holders,
		PrimarySourceCustomerID: new(holders[0]),
		Status:                  new(models.AccountStatusOpen),
		Type:                    new(typ),
		SourcePortfolioID:       new(fmt.Sprintf("DEMO-P%d", 1+r.IntN(4))),
		AccountOpenDate:         open,
		Cards:                   []*models.CardInput{},
	}
	switch r.IntN(20) {
	case 0:
		a.Status = new(models.AccountStatusClosed)
		a.AccountCloseDate = d.within(*open, 900)
	case 1:
		a.Status = new(models.AccountStatusDispute)
	case 2:
		a.Status = new(models.AccountStatusFraud)
	}
	if typ == models.AccountTypeSav || typ == models.AccountTypeMma || typ == models.AccountTypeSbs {
		return a // deposit accounts without cards
	}
	cardType := models.CardTypeDebit
	switch typ {
	case models.AccountTypeCrd, models.AccountTypeSbcrd:
		cardType = models.CardTypeCredit
	case models.AccountTypePpd:
		cardType = models.CardTypePrepaid
	}
	for _, h := range holders {
		used := map[string]bool{}
		for range 1 + r.IntN(2) {
			network := 3 + r.IntN(4)
			if r.IntN(3) > 0 {
				network = 4
			}
			iins := demoIINs[network]
			last4 := fmt.Sprintf("%04d", r.IntN(10000))
			for used[last4] {
				last4 = fmt.Sprintf("%04d", r.IntN(10000))
			}
			used[last4] = true
			card := &models.CardInput{
				SourceAccountID:   new(id),
				SourceCustomerID:  new(h),
				Last4:             new(last4),
				Iin:               new(iins[r.IntN(len(iins))]),
				CardType:          new(cardType),
				Status:            new(models.CardStatusOpen),
				NetworkIdentifier: new(network),
			}
			switch closed := a.AccountCloseDate; {
			case closed != nil: // issued while the account was open, and closed with it at the latest
				card.OpenDate = d.between(*open, earliest(open.AddDate(0, 0, 365), *closed))
				card.Status = new(models.CardStatusClosed)
				card.CloseDate = d.between(*card.OpenDate, *closed)
			default:
				card.OpenDate = d.within(*open, 365)
				if r.IntN(15) == 0 {
					card.Status = new(models.CardStatusClosed)
					card.CloseDate = d.within(*card.OpenDate, 400)
				}
			}
			a.Cards = append(a.Cards, card)
		}
	}
	return a
}
