package db

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// CustomersByIDs loads the visible customers among ids, keyed by sourceCustomerId.
func (s *Store) CustomersByIDs(ctx context.Context, scope models.Scope, ids []string) (map[string]*models.Customer, error) {
	return byKey(ctx, s, ids, func(c *models.Customer) string { return c.SourceCustomerID }, customerShape, "customers", func() *gorm.DB {
		tx := s.db(ctx).Table("customers").Where(s.dialect.in("customers.source_customer_id", ids))
		return s.customerVisible(tx, "customers", scope)
	})
}

// customerOrder describes one CustomerOrderField: its column and how its cursor key reads.
type customerOrder struct {
	name string
	col  string // empty for SOURCE_CUSTOMER_ID
	key  func(*models.Customer) time.Time
}

var customerOrders = map[models.CustomerOrderField]customerOrder{
	models.CustomerOrderFieldSourceCustomerID:     {name: "id"},
	models.CustomerOrderFieldCustomerCreationDate: {name: "created", col: "customers.customer_creation_date", key: func(c *models.Customer) time.Time { return c.CustomerCreationDate }},
	models.CustomerOrderFieldEnrollmentStartDate:  {name: "enrolled", col: "customers.enrollment_start_date", key: func(c *models.Customer) time.Time { return c.EnrollmentStartDate }},
	models.CustomerOrderFieldUpdatedAt:            {name: "updated", col: "customers.updated_at", key: func(c *models.Customer) time.Time { return c.UpdatedAt }},
}

// FindCustomers lists the visible customers that match f, in the given order, one page at a
// time; count counts all matches and runs only if called.
func (s *Store) FindCustomers(ctx context.Context, scope models.Scope, f *models.CustomerFilter, order *models.CustomerOrder, pa PageArgs) (*Page[models.Customer], models.Counter, error) {
	field, desc := models.CustomerOrderFieldSourceCustomerID, false
	if order != nil {
		field = order.Field
		desc = order.Direction != nil && *order.Direction == models.OrderDirectionDesc
	}
	o, ok := customerOrders[field]
	if !ok {
		return nil, nil, models.Errorf(models.ErrBadUserInput, "unknown order field %s", field)
	}
	orderName := o.name
	if desc {
		orderName += "-desc"
	}
	ks := keyset{cols: []string{"customers.source_customer_id"}, desc: desc}
	parse := keysAsAny
	cursorOf := func(c *models.Customer) string { return encodeCursor(orderName, c.SourceCustomerID) }
	if o.col != "" {
		ks.cols = []string{o.col, "customers.source_customer_id"}
		parse = func(k []string) ([]any, error) {
			t, err := time.Parse(time.RFC3339Nano, k[0])
			if err != nil {
				return nil, err
			}
			return []any{t, k[1]}, nil
		}
		cursorOf = func(c *models.Customer) string {
			return encodeCursor(orderName, o.key(c).UTC().Format(time.RFC3339Nano), c.SourceCustomerID)
		}
	}
	q, err := s.resolvePage(pa, orderName, len(ks.cols), parse)
	if err != nil {
		return nil, nil, err
	}
	filtered := func(ctx context.Context) *gorm.DB {
		tx := s.db(ctx).Table("customers")
		return s.customerFilter(tx, scope, f)
	}
	p := stmtParts{table: "customers", sel: customerShape.selectList("customers", "")}
	p.where, p.order, p.limit = ks.parts(q, s.customerConds(scope, f))
	rows, err := scanRows(s.keptQuery(ctx, &p), customerShape.dests)
	if err != nil {
		return nil, nil, s.storeErr(ctx, err)
	}
	count := s.countOf(filtered)
	if organizationsOnly(f) {
		if f != nil {
			scope = scope.Narrow(f.OrganizationIds)
		}
		count = s.customerCount(scope)
	}
	return finish(rows, q, cursorOf), count, nil
}

// organizationsOnly tells whether f filters by organization alone, or not at all.
func organizationsOnly(f *models.CustomerFilter) bool {
	if f == nil {
		return true
	}
	rest := *f
	rest.OrganizationIds = nil
	return reflect.ValueOf(rest).IsZero()
}

// customerCount counts the customers of a scope from customer_counts, which triggers keep in
// the same transaction as every write of customers (migration 00002): a sum of a few rows per
// organization, where a COUNT reads an index entry per customer.
func (s *Store) customerCount(scope models.Scope) models.Counter {
	return func(ctx context.Context) (int, error) {
		if !scope.All() && len(scope.Orgs()) == 0 {
			return 0, nil // no organization: no statement
		}
		tx := s.customerVisible(s.db(ctx).Table("customer_counts"), "customer_counts", scope)
		var n int64
		if err := tx.Select("CAST(COALESCE(SUM(n), 0) AS BIGINT)").Scan(&n).Error; err != nil {
			return 0, s.storeErr(ctx, err)
		}
		return int(n), nil
	}
}

// customerFilter applies the scope and a CustomerFilter to a query over the customers table.
func (s *Store) customerFilter(tx *gorm.DB, scope models.Scope, f *models.CustomerFilter) *gorm.DB {
	for _, c := range s.customerConds(scope, f) {
		tx = tx.Where(c)
	}
	return tx
}

// customerConds are the conditions of the scope and a CustomerFilter on the customers table.
func (s *Store) customerConds(scope models.Scope, f *models.CustomerFilter) []clause.Expr {
	if f == nil {
		f = &models.CustomerFilter{}
	}
	var conds []clause.Expr
	if e, ok := s.customerVisibleExpr("customers", scope.Narrow(f.OrganizationIds)); ok {
		conds = append(conds, e)
	}
	eq := func(sql string, v any) { conds = append(conds, clause.Expr{SQL: sql, Vars: []any{v}}) }
	if f.Countries != nil {
		up := make([]string, len(f.Countries))
		for i, c := range f.Countries {
			up[i] = strings.ToUpper(c)
		}
		conds = append(conds, s.dialect.in("customers.country", up))
	}
	if f.PostalCode != nil {
		eq("customers.postal_code = ?", *f.PostalCode)
	}
	if f.EnrollmentOptInStatuses != nil {
		conds = append(conds, s.dialect.in("customers.enrollment_opt_in_status", enumStrings(f.EnrollmentOptInStatuses)))
	}
	if f.TargetingIndicators != nil {
		conds = append(conds, s.dialect.in("customers.targeting_indicator", enumStrings(f.TargetingIndicators)))
	}
	if f.AlertOptInStatuses != nil {
		// The set is stored as a JSON array of enum names, so each name appears quoted. One
		// condition per distinct value: however long the list, at most one per enum value.
		var likes []string
		var vars []any
		for _, a := range models.AllAlertOptInStatus {
			if slices.Contains(f.AlertOptInStatuses, a) {
				likes = append(likes, "customers.alert_opt_in_status LIKE ?")
				vars = append(vars, `%"`+string(a)+`"%`)
			}
		}
		if len(likes) == 0 {
			conds = append(conds, nothing)
		} else {
			conds = append(conds, clause.Expr{SQL: "(" + strings.Join(likes, " OR ") + ")", Vars: vars})
		}
	}
	if f.SourceParentCustomerID != nil {
		eq("customers.source_parent_customer_id = ?", *f.SourceParentCustomerID)
	}
	conds = timeRange(conds, "customers.customer_creation_date", f.CustomerCreationDate)
	conds = timeRange(conds, "customers.enrollment_start_date", f.EnrollmentStartDate)
	if f.UpdatedSince != nil {
		eq("customers.updated_at >= ?", *f.UpdatedSince)
	}
	return conds
}

// timeRange adds the conditions of a half-open range from <= col < to.
func timeRange(conds []clause.Expr, col string, r *models.DateTimeRange) []clause.Expr {
	if r == nil {
		return conds
	}
	if r.From != nil {
		conds = append(conds, clause.Expr{SQL: col + " >= ?", Vars: []any{*r.From}})
	}
	if r.To != nil {
		conds = append(conds, clause.Expr{SQL: col + " < ?", Vars: []any{*r.To}})
	}
	return conds
}

func enumStrings[E ~string](vals []E) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

// ChildPage is one parent's page of children.
type ChildPage = Page[models.Customer]

// ChildrenOf pages the visible children of several parents at once: one statement, a window
// per parent, whatever the number of parents.
func (s *Store) ChildrenOf(ctx context.Context, scope models.Scope, parentIDs []string, pa PageArgs) (map[string]*ChildPage, error) {
	if pa.Last != nil || pa.Before != nil {
		return nil, models.Errorf(models.ErrBadUserInput, "children pages forward only: use first and after")
	}
	q, err := s.resolvePage(pa, "id", 1, keysAsAny)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*ChildPage, len(parentIDs))
	if len(parentIDs) == 0 {
		return out, nil
	}
	inner := s.db(ctx).Table("customers").
		Select("customers.*, ROW_NUMBER() OVER (PARTITION BY customers.source_parent_customer_id ORDER BY customers.source_customer_id) AS rn").
		Where(s.dialect.in("customers.source_parent_customer_id", parentIDs))
	if q.after != nil {
		inner = inner.Where("customers.source_customer_id > ?", q.after[0])
	}
	inner = s.customerVisible(inner, "customers", scope)
	rows, err := selectRows(s.db(ctx).Table("(?) AS t", inner).Where("t.rn <= ?", q.limit+1).
		Order("t.source_parent_customer_id, t.source_customer_id"), customerShape, "t")
	if err != nil {
		return nil, s.storeErr(ctx, err)
	}
	groups := make(map[string][]*models.Customer)
	for _, c := range rows {
		groups[*c.SourceParentCustomerID] = append(groups[*c.SourceParentCustomerID], c)
	}
	for _, id := range parentIDs {
		out[id] = finish(groups[id], q, func(c *models.Customer) string { return encodeCursor("id", c.SourceCustomerID) })
	}
	return out, nil
}

// CountChildren counts the visible children of several parents in one statement.
func (s *Store) CountChildren(ctx context.Context, scope models.Scope, parentIDs []string) (map[string]int, error) {
	type row struct {
		ParentID string
		N        int
	}
	var rows []row
	tx := s.db(ctx).Table("customers").Select("customers.source_parent_customer_id AS parent_id, COUNT(*) AS n").
		Where(s.dialect.in("customers.source_parent_customer_id", parentIDs))
	if err := s.customerVisible(tx, "customers", scope).Group("customers.source_parent_customer_id").Scan(&rows).Error; err != nil {
		return nil, s.storeErr(ctx, err)
	}
	out := make(map[string]int, len(parentIDs))
	for _, r := range rows {
		out[r.ParentID] = r.N
	}
	return out, nil
}
