package db

import (
	"context"
	"sort"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// PortfolioStats computes the dashboard figures in three statements: one grouping the selected
// customers, one the accounts they hold, one the cards on those accounts. Buckets are ordered by
// count (largest first, ties by key), months by month; empty buckets are left out.
func (s *Store) PortfolioStats(ctx context.Context, scope models.Scope, f *models.CustomerFilter) (*models.PortfolioStats, error) {
	st := &models.PortfolioStats{}
	selected := func() any {
		return s.customerFilter(s.db(ctx).Table("customers").Select("customers.source_customer_id"), scope, f)
	}

	type customerRow struct {
		Enrollment, Targeting, Country, Org, Month string
		N                                          int
	}
	var crows []customerRow
	err := s.customerFilter(s.db(ctx).Table("customers"), scope, f).
		Select("customers.enrollment_opt_in_status AS enrollment, customers.targeting_indicator AS targeting, " +
			"customers.country AS country, customers.organization_id AS org, " + s.dialect.month("customers.enrollment_start_date") + " AS month, COUNT(*) AS n").
		Group("1, 2, 3, 4, 5").Scan(&crows).Error
	if err != nil {
		return nil, s.storeErr(ctx, err)
	}
	enroll, target, country, org, month := counter{}, counter{}, counter{}, counter{}, counter{}
	for _, r := range crows {
		st.Customers += r.N
		enroll[r.Enrollment] += r.N
		target[r.Targeting] += r.N
		country[r.Country] += r.N
		org[r.Org] += r.N
		month[r.Month] += r.N
	}
	st.CustomersByEnrollmentOptInStatus = enroll.buckets()
	st.CustomersByTargetingIndicator = target.buckets()
	st.CustomersByCountry = country.buckets()
	st.CustomersByOrganization = org.buckets()
	st.EnrollmentsByMonth = month.byKey()

	const heldBySelected = "IN (SELECT h.source_account_id FROM account_holders h WHERE h.source_customer_id IN (?))"
	type accountRow struct {
		Type, Status string
		N            int
	}
	var arows []accountRow
	err = s.db(ctx).Table("accounts").Select("accounts.type AS type, accounts.status AS status, COUNT(*) AS n").
		Where("accounts.source_account_id "+heldBySelected, selected()).Group("1, 2").Scan(&arows).Error
	if err != nil {
		return nil, s.storeErr(ctx, err)
	}
	atype, astatus := counter{}, counter{}
	for _, r := range arows {
		st.Accounts += r.N
		atype[r.Type] += r.N
		astatus[r.Status] += r.N
	}
	st.AccountsByType = atype.buckets()
	st.AccountsByStatus = astatus.buckets()

	type cardRow struct {
		Network      int
		Type, Status string
		N            int
	}
	var krows []cardRow
	err = s.db(ctx).Table("cards").Select("cards.network_identifier AS network, cards.card_type AS type, cards.status AS status, COUNT(*) AS n").
		Where("cards.source_account_id "+heldBySelected, selected()).Group("1, 2, 3").Scan(&krows).Error
	if err != nil {
		return nil, s.storeErr(ctx, err)
	}
	network, ctype, cstatus := counter{}, counter{}, counter{}
	for _, r := range krows {
		st.Cards += r.N
		network[string(models.NetworkOf(r.Network))] += r.N
		ctype[r.Type] += r.N
		cstatus[r.Status] += r.N
	}
	st.CardsByNetwork = network.buckets()
	st.CardsByType = ctype.buckets()
	st.CardsByStatus = cstatus.buckets()
	return st, nil
}

type counter map[string]int

func (c counter) list() []*models.Bucket {
	out := make([]*models.Bucket, 0, len(c))
	for k, n := range c {
		if n > 0 {
			out = append(out, &models.Bucket{Key: k, Count: n})
		}
	}
	return out
}

func (c counter) buckets() []*models.Bucket {
	out := c.list()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func (c counter) byKey() []*models.Bucket {
	out := c.list()
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
