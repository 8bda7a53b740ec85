package db

import (
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// The visibility rules of REFERENCE.md ("Access"), as SQL. A customer is visible when its
// organization is in scope; an account when at least one of its ingested holders is visible;
// a card when its account is. An all-organizations scope adds no condition at all.

var nothing = clause.Expr{SQL: "1 = 0"}

// customerVisible restricts a query over customers (aliased or named by table) to the scope.
func (s *Store) customerVisible(tx *gorm.DB, table string, scope models.Scope) *gorm.DB {
	if e, ok := s.customerVisibleExpr(table, scope); ok {
		return tx.Where(e)
	}
	return tx
}

// customerVisibleExpr is customerVisible's condition, and false when there is none.
func (s *Store) customerVisibleExpr(table string, scope models.Scope) (clause.Expr, bool) {
	if scope.All() {
		return clause.Expr{}, false
	}
	if len(scope.Orgs()) == 0 {
		return nothing, true
	}
	return s.dialect.in(table+".organization_id", scope.Orgs()), true
}

// accountInOrgsExpr is the condition that the account whose id is in column accountCol has
// an ingested holder in one of orgs.
func (s *Store) accountInOrgsExpr(accountCol string, orgs []string) clause.Expr {
	if len(orgs) == 0 {
		return nothing
	}
	in := s.dialect.in("vc.organization_id", orgs)
	return clause.Expr{
		SQL: "EXISTS (SELECT 1 FROM account_holders vh JOIN customers vc ON vc.source_customer_id = vh.source_customer_id" +
			" WHERE vh.source_account_id = " + accountCol + " AND " + in.SQL + ")",
		Vars: in.Vars,
	}
}

// accountVisible restricts a query over rows carrying an account id column to visible accounts.
func (s *Store) accountVisible(tx *gorm.DB, accountCol string, scope models.Scope) *gorm.DB {
	if e, ok := s.accountVisibleExpr(accountCol, scope); ok {
		return tx.Where(e)
	}
	return tx
}

// accountVisibleExpr is accountVisible's condition, and false when there is none.
func (s *Store) accountVisibleExpr(accountCol string, scope models.Scope) (clause.Expr, bool) {
	if scope.All() {
		return clause.Expr{}, false
	}
	return s.accountInOrgsExpr(accountCol, scope.Orgs()), true
}
