package db

import (
	"context"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// cardKeyCols are a card's key columns; every card list is in this order.
var (
	cardKeyCols = []string{"cards.source_account_id", "cards.source_customer_id", "cards.last4"}
	cardOrder   = strings.Join(cardKeyCols, ", ")
)

// CardsByKeys loads the visible cards among keys.
func (s *Store) CardsByKeys(ctx context.Context, scope models.Scope, keys []models.CardKey) (map[models.CardKey]*models.Card, error) {
	if len(keys) == 0 {
		return map[models.CardKey]*models.Card{}, nil
	}
	tuples := make([][]any, len(keys))
	for i, k := range keys {
		tuples[i] = []any{k.SourceAccountID, k.SourceCustomerID, k.Last4}
	}
	tx := s.db(ctx).Table("cards").Where(tupleIn(cardKeyCols, tuples))
	rows, err := selectRows(s.accountVisible(tx, "cards.source_account_id", scope), cardShape, "cards")
	if err != nil {
		return nil, s.storeErr(ctx, err)
	}
	return index(rows, (*models.Card).Key), nil
}

// CardsByAccounts loads the visible cards matching f on several accounts at once.
func (s *Store) CardsByAccounts(ctx context.Context, scope models.Scope, accountIDs []string, f *models.CardFilter) (map[string][]*models.Card, error) {
	return s.cardsGrouped(ctx, scope, "cards.source_account_id", accountIDs, f, func(c *models.Card) string { return c.SourceAccountID })
}

// CardsByHolders loads the visible cards matching f held by several customers at once.
func (s *Store) CardsByHolders(ctx context.Context, scope models.Scope, customerIDs []string, f *models.CardFilter) (map[string][]*models.Card, error) {
	return s.cardsGrouped(ctx, scope, "cards.source_customer_id", customerIDs, f, func(c *models.Card) string { return c.SourceCustomerID })
}

func (s *Store) cardsGrouped(ctx context.Context, scope models.Scope, col string, ids []string, f *models.CardFilter, group func(*models.Card) string) (map[string][]*models.Card, error) {
	out := make(map[string][]*models.Card, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	tx := s.cardFilter(s.db(ctx).Table("cards").Where(s.dialect.in(col, ids)), scope, f)
	rows, err := selectRows(tx.Order(cardOrder), cardShape, "cards")
	if err != nil {
		return nil, s.storeErr(ctx, err)
	}
	for _, c := range rows {
		k := group(c)
		out[k] = append(out[k], c)
	}
	return out, nil
}

// CardsWith names the neighbours of a card that FindCardsWith loads in the same statement.
type CardsWith struct {
	Account bool // the card's account (always visible with the card)
	Holder  bool // the card's holder, when ingested and visible
}

// CardNeighbours are the accounts and holders of a page of cards, by their ids.
type CardNeighbours struct {
	Accounts map[string]*models.Account
	Holders  map[string]*models.Customer
}

// FindCardsWith is FindCards that also loads, by joins in the same statement, what with asks
// for: a support look-up of cards with their account and holder costs one round trip.
func (s *Store) FindCardsWith(ctx context.Context, scope models.Scope, f *models.CardFilter, pa PageArgs, with CardsWith) (*Page[models.Card], *CardNeighbours, models.Counter, error) {
	q, err := s.resolvePage(pa, "card", 3, keysAsAny)
	if err != nil {
		return nil, nil, nil, err
	}
	filtered := func(ctx context.Context) *gorm.DB {
		return s.cardFilter(s.db(ctx).Table("cards"), scope, f)
	}
	ks := keyset{cols: cardKeyCols}
	p := stmtParts{table: "cards", sel: cardShape.selectList("cards", "")}
	if with.Account {
		p.joins = append(p.joins, clause.Expr{SQL: "LEFT JOIN accounts ON accounts.source_account_id = cards.source_account_id"})
		p.sel += ", " + accountShape.selectList("accounts", "account_")
	}
	if with.Holder {
		on := clause.Expr{SQL: "holder.source_customer_id = cards.source_customer_id"}
		if vis, ok := s.customerVisibleExpr("holder", scope); ok {
			on = clause.Expr{SQL: on.SQL + " AND " + vis.SQL, Vars: vis.Vars}
		}
		p.joins = append(p.joins, clause.Expr{SQL: "LEFT JOIN customers AS holder ON " + on.SQL, Vars: on.Vars})
		p.sel += ", " + customerShape.selectList("holder", "holder_")
	}
	p.where, p.order, p.limit = ks.parts(q, s.cardConds(scope, f))
	var holders []*optional[models.Customer]
	var accounts []*optional[models.Account]
	rows, err := scanRows(s.keptQuery(ctx, &p), func(c *models.Card, buf []any) []any {
		buf = cardShape.dests(c, buf)
		if with.Account {
			a := newOptional(accountShape)
			accounts = append(accounts, a)
			buf = a.dests(buf)
		}
		if with.Holder {
			h := newOptional(customerShape)
			holders = append(holders, h)
			buf = h.dests(buf)
		}
		return buf
	})
	if err != nil {
		return nil, nil, nil, s.storeErr(ctx, err)
	}
	var near *CardNeighbours
	if with.Account || with.Holder {
		near = &CardNeighbours{Accounts: map[string]*models.Account{}, Holders: map[string]*models.Customer{}}
		for _, o := range accounts {
			a, err := o.value()
			if err != nil {
				return nil, nil, nil, s.storeErr(ctx, err)
			}
			if a != nil {
				near.Accounts[a.SourceAccountID] = a
			}
		}
		for _, h := range holders {
			c, err := h.value()
			if err != nil {
				return nil, nil, nil, s.storeErr(ctx, err)
			}
			if c == nil {
				continue // not ingested, or not visible
			}
			if _, ok := near.Holders[c.SourceCustomerID]; !ok {
				near.Holders[c.SourceCustomerID] = c
			}
		}
	}
	cursorOf := func(c *models.Card) string {
		return encodeCursor("card", c.SourceAccountID, c.SourceCustomerID, c.Last4)
	}
	return finish(rows, q, cursorOf), near, s.countOf(filtered), nil
}

// cardFilter applies the scope and a CardFilter to a query over the cards table.
func (s *Store) cardFilter(tx *gorm.DB, scope models.Scope, f *models.CardFilter) *gorm.DB {
	for _, c := range s.cardConds(scope, f) {
		tx = tx.Where(c)
	}
	return tx
}

// cardConds are the conditions of the scope and a CardFilter on the cards table.
func (s *Store) cardConds(scope models.Scope, f *models.CardFilter) []clause.Expr {
	if f == nil {
		f = &models.CardFilter{}
	}
	var conds []clause.Expr
	if e, ok := s.accountVisibleExpr("cards.source_account_id", scope.Narrow(f.OrganizationIds)); ok {
		conds = append(conds, e)
	}
	eq := func(col string, v *string) {
		if v != nil {
			conds = append(conds, clause.Expr{SQL: col + " = ?", Vars: []any{*v}})
		}
	}
	eq("cards.last4", f.Last4)
	eq("cards.iin", f.Iin)
	if f.Statuses != nil {
		conds = append(conds, s.dialect.in("cards.status", enumStrings(f.Statuses)))
	}
	if f.CardTypes != nil {
		conds = append(conds, s.dialect.in("cards.card_type", enumStrings(f.CardTypes)))
	}
	if f.NetworkIdentifiers != nil {
		conds = append(conds, s.dialect.inInts("cards.network_identifier", f.NetworkIdentifiers))
	}
	eq("cards.source_customer_id", f.SourceCustomerID)
	eq("cards.source_account_id", f.SourceAccountID)
	return conds
}

// tupleIn is "(cols) is one of tuples", written as OR'd equalities that both databases plan as
// key lookups.
func tupleIn(cols []string, tuples [][]any) clause.Expr {
	one := "(" + strings.Join(cols, " = ? AND ") + " = ?)"
	conds := make([]string, len(tuples))
	vars := make([]any, 0, len(cols)*len(tuples))
	for i, t := range tuples {
		conds[i] = one
		vars = append(vars, t...)
	}
	return clause.Expr{SQL: "(" + strings.Join(conds, " OR ") + ")", Vars: vars}
}
