package db

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// AccountsByIDs loads the visible accounts among ids, keyed by sourceAccountId.
func (s *Store) AccountsByIDs(ctx context.Context, scope models.Scope, ids []string) (map[string]*models.Account, error) {
	return byKey(ctx, s, ids, func(a *models.Account) string { return a.SourceAccountID }, accountShape, "accounts", func() *gorm.DB {
		tx := s.db(ctx).Table("accounts").Where(s.dialect.in("accounts.source_account_id", ids))
		return s.accountVisible(tx, "accounts.source_account_id", scope)
	})
}

// heldAccount is an account row with the holder it was reached through.
type heldAccount struct {
	HolderID string
	models.Account
}

func (r *heldAccount) dests(buf []any) []any {
	return accountShape.dests(&r.Account, append(buf, &r.HolderID))
}

// AccountsByHolders loads, for several customers at once, the visible accounts each holds that
// match f, ordered by sourceAccountId. A joint account held by several of them is one object.
func (s *Store) AccountsByHolders(ctx context.Context, scope models.Scope, holderIDs []string, f *models.AccountFilter) (map[string][]*models.Account, error) {
	out := make(map[string][]*models.Account, len(holderIDs))
	if len(holderIDs) == 0 {
		return out, nil
	}
	p := stmtParts{
		table: "account_holders AS h",
		sel:   "h.source_customer_id AS holder_id, " + accountShape.selectList("accounts", ""),
		joins: []clause.Expr{{SQL: "JOIN accounts ON accounts.source_account_id = h.source_account_id"}},
		where: append([]clause.Expr{s.dialect.in("h.source_customer_id", holderIDs)}, s.accountConds(scope, f)...),
		order: "h.source_customer_id, accounts.source_account_id",
	}
	rows, err := scanRows(s.keptQuery(ctx, &p), (*heldAccount).dests)
	if err != nil {
		return nil, s.storeErr(ctx, err)
	}
	seen := make(map[string]*models.Account, len(rows))
	for _, r := range rows {
		a, ok := seen[r.SourceAccountID]
		if !ok {
			a = &r.Account
			seen[a.SourceAccountID] = a
		}
		out[r.HolderID] = append(out[r.HolderID], a)
	}
	return out, nil
}

// FindAccounts lists the visible accounts that match f by sourceAccountId, a page at a time.
func (s *Store) FindAccounts(ctx context.Context, scope models.Scope, f *models.AccountFilter, pa PageArgs) (*Page[models.Account], models.Counter, error) {
	q, err := s.resolvePage(pa, "account", 1, keysAsAny)
	if err != nil {
		return nil, nil, err
	}
	filtered := func(ctx context.Context) *gorm.DB {
		return s.accountFilter(s.db(ctx).Table("accounts"), scope, f)
	}
	rows, err := selectRows((keyset{cols: []string{"accounts.source_account_id"}}).apply(filtered(ctx), q), accountShape, "accounts")
	if err != nil {
		return nil, nil, s.storeErr(ctx, err)
	}
	return finish(rows, q, func(a *models.Account) string { return encodeCursor("account", a.SourceAccountID) }), s.countOf(filtered), nil
}

// accountFilter applies the scope and an AccountFilter to a query that includes the accounts
// table.
func (s *Store) accountFilter(tx *gorm.DB, scope models.Scope, f *models.AccountFilter) *gorm.DB {
	for _, c := range s.accountConds(scope, f) {
		tx = tx.Where(c)
	}
	return tx
}

// accountConds are the conditions of the scope and an AccountFilter on the accounts table.
func (s *Store) accountConds(scope models.Scope, f *models.AccountFilter) []clause.Expr {
	if f == nil {
		f = &models.AccountFilter{}
	}
	var conds []clause.Expr
	if e, ok := s.accountVisibleExpr("accounts.source_account_id", scope.Narrow(f.OrganizationIds)); ok {
		conds = append(conds, e)
	}
	if f.Statuses != nil {
		conds = append(conds, s.dialect.in("accounts.status", enumStrings(f.Statuses)))
	}
	if f.Types != nil {
		conds = append(conds, s.dialect.in("accounts.type", enumStrings(f.Types)))
	}
	if f.SourcePortfolioIds != nil {
		conds = append(conds, s.dialect.in("accounts.source_portfolio_id", f.SourcePortfolioIds))
	}
	return timeRange(conds, "accounts.account_open_date", f.AccountOpenDate)
}

// heldAccountCard is an account row with the holder it was reached through and one of its
// cards (all card columns NULL for an account without cards).
type heldAccountCard struct {
	heldAccount
	card optionalCard
}

func (r *heldAccountCard) dests(buf []any) []any { return r.card.dests(r.heldAccount.dests(buf)) }

// AccountsWithCardsByHolders is AccountsByHolders that also loads, in the same statement, all
// the cards of the accounts it returns, keyed by sourceAccountId in card order: what
// CardsByAccounts returns for those accounts without a filter. A card of a visible account is
// visible, so the cards need no condition of their own.
func (s *Store) AccountsWithCardsByHolders(ctx context.Context, scope models.Scope, holderIDs []string, f *models.AccountFilter) (map[string][]*models.Account, map[string][]*models.Card, error) {
	out := make(map[string][]*models.Account, len(holderIDs))
	cards := make(map[string][]*models.Card)
	if len(holderIDs) == 0 {
		return out, cards, nil
	}
	p := stmtParts{
		table: "account_holders AS h",
		sel:   "h.source_customer_id AS holder_id, " + accountShape.selectList("accounts", "") + ", " + cardShape.selectList("cards", "card_"),
		joins: []clause.Expr{
			{SQL: "JOIN accounts ON accounts.source_account_id = h.source_account_id"},
			{SQL: "LEFT JOIN cards ON cards.source_account_id = accounts.source_account_id"},
		},
		where: append([]clause.Expr{s.dialect.in("h.source_customer_id", holderIDs)}, s.accountConds(scope, f)...),
		order: "h.source_customer_id, accounts.source_account_id, cards.source_customer_id, cards.last4",
	}
	rows, err := scanRows(s.keptQuery(ctx, &p), (*heldAccountCard).dests)
	if err != nil {
		return nil, nil, s.storeErr(ctx, err)
	}
	seen := make(map[string]*models.Account, len(rows))
	owner := make(map[string]string, len(rows)) // the holder whose rows carry an account's cards
	var last *heldAccountCard                   // rows come grouped by holder, then account
	for _, r := range rows {
		a, ok := seen[r.SourceAccountID]
		if !ok {
			a = &r.Account
			seen[a.SourceAccountID] = a
			owner[a.SourceAccountID] = r.HolderID
			cards[a.SourceAccountID] = []*models.Card{}
		}
		if last == nil || last.HolderID != r.HolderID || last.SourceAccountID != r.SourceAccountID {
			out[r.HolderID] = append(out[r.HolderID], a)
		}
		if owner[a.SourceAccountID] == r.HolderID {
			card, err := r.card.card()
			if err != nil {
				return nil, nil, s.storeErr(ctx, err)
			}
			if card != nil {
				cards[a.SourceAccountID] = append(cards[a.SourceAccountID], card)
			}
		}
		last = r
	}
	return out, cards, nil
}

// CustomerHoldings is what CustomersWithAccounts loads: the visible customers by id, the
// accounts each holds (ordered by sourceAccountId, a joint account one object), and, when
// asked for, the cards of each of those accounts by sourceAccountId.
type CustomerHoldings struct {
	Customers map[string]*models.Customer
	Accounts  map[string][]*models.Account
	Cards     map[string][]*models.Card
}

// CustomersWithAccounts loads the visible customers among ids together with all the accounts
// they hold and, withCards, those accounts' cards: what CustomersByIDs and
// AccountsWithCardsByHolders (without a filter) load, in one statement.
func (s *Store) CustomersWithAccounts(ctx context.Context, scope models.Scope, ids []string, withCards bool) (*CustomerHoldings, error) {
	out := &CustomerHoldings{Customers: map[string]*models.Customer{}, Accounts: map[string][]*models.Account{}}
	if withCards {
		out.Cards = map[string][]*models.Card{}
	}
	if len(ids) == 0 {
		return out, nil
	}
	// Outer joins all the way, so that a customer without (visible) accounts still comes back,
	// once, with NULL account columns. (A parenthesised inner join of holders and accounts,
	// outer-joined to customers, says the same, but SQLite plans it as a scan of every holder.)
	sel := customerShape.selectList("customers", "") + ", " + accountShape.selectList("accounts", "account_")
	on := clause.Expr{SQL: "accounts.source_account_id = h.source_account_id"}
	if !scope.All() {
		vis := s.accountInOrgsExpr("accounts.source_account_id", scope.Orgs())
		on = clause.Expr{SQL: on.SQL + " AND " + vis.SQL, Vars: vis.Vars}
	}
	p := stmtParts{
		table: "customers",
		sel:   sel,
		joins: []clause.Expr{
			{SQL: "LEFT JOIN account_holders AS h ON h.source_customer_id = customers.source_customer_id"},
			{SQL: "LEFT JOIN accounts ON " + on.SQL, Vars: on.Vars},
		},
		where: []clause.Expr{s.dialect.in("customers.source_customer_id", ids)},
		order: "customers.source_customer_id, accounts.source_account_id",
	}
	if withCards {
		p.joins = append(p.joins, clause.Expr{SQL: "LEFT JOIN cards ON cards.source_account_id = accounts.source_account_id"})
		p.sel += ", " + cardShape.selectList("cards", "card_")
		p.order += ", cards.source_customer_id, cards.last4"
	}
	if e, ok := s.customerVisibleExpr("customers", scope); ok {
		p.where = append(p.where, e)
	}
	rows, err := scanRows(s.keptQuery(ctx, &p), func(r *customerHolding, buf []any) []any {
		buf = customerShape.dests(&r.customer, buf)
		r.account = newOptional(accountShape)
		buf = r.account.dests(buf)
		if withCards {
			buf = r.card.dests(buf)
		}
		return buf
	})
	if err != nil {
		return nil, s.storeErr(ctx, err)
	}
	seen := map[string]*models.Account{}
	owner := map[string]string{} // the customer whose rows carry an account's cards
	var lastAccount *models.Account
	for _, r := range rows {
		c, ok := out.Customers[r.customer.SourceCustomerID]
		if !ok {
			c = &r.customer
			out.Customers[c.SourceCustomerID] = c
			out.Accounts[c.SourceCustomerID] = []*models.Account{}
			lastAccount = nil
		}
		row, err := r.account.value()
		if err != nil {
			return nil, s.storeErr(ctx, err)
		}
		if row == nil {
			continue // a customer without visible accounts
		}
		a, ok := seen[row.SourceAccountID]
		if !ok {
			a = row
			seen[a.SourceAccountID] = a
			owner[a.SourceAccountID] = c.SourceCustomerID
			if withCards {
				out.Cards[a.SourceAccountID] = []*models.Card{}
			}
		}
		if a != lastAccount { // rows come grouped by customer, then account
			out.Accounts[c.SourceCustomerID] = append(out.Accounts[c.SourceCustomerID], a)
			lastAccount = a
		}
		if withCards && owner[a.SourceAccountID] == c.SourceCustomerID {
			card, err := r.card.card()
			if err != nil {
				return nil, s.storeErr(ctx, err)
			}
			if card != nil {
				out.Cards[a.SourceAccountID] = append(out.Cards[a.SourceAccountID], card)
			}
		}
	}
	return out, nil
}

// customerHolding is one row of CustomersWithAccounts.
type customerHolding struct {
	customer models.Customer
	account  *optional[models.Account]
	card     optionalCard
}
