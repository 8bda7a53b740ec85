package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// IngestOptions are the caller's choices for one ingest.
type IngestOptions struct {
	// SkipInvalid writes the valid customers and reports the rest.
	SkipInvalid bool
	// DryRun validates and counts without writing.
	DryRun bool
}

// IngestResult is what an ingest did (or, on a dry run, would do).
type IngestResult struct {
	Summary   models.IngestSummary
	Problems  []models.UserError
	Customers []*models.Customer // as stored after the ingest; empty on a dry run or rejection
}

// errRollback ends a transaction without writing: a rejected batch or a dry run.
var errRollback = errors.New("rollback")

// Ingest upserts whole customer trees in one transaction. A customer, its listed accounts and
// their listed cards are created or replaced by their keys; an account's holder set is
// replaced (cards of holders it no longer lists go with them); rows sent unchanged are not
// touched, so updatedAt moves only on a real change. With any problem nothing is written,
// unless opt.SkipInvalid, which writes the valid customers.
func (s *Store) Ingest(ctx context.Context, scope models.Scope, in []*models.CustomerInput, opt IngestOptions) (*IngestResult, error) {
	res := &IngestResult{Customers: []*models.Customer{}, Summary: emptySummary(opt.DryRun)}
	if len(in) > s.cfg.MaxBatch {
		res.Problems = []models.UserError{{Path: "customers", Code: models.UserErrorCodeLimitExceeded,
			Message: fmt.Sprintf("a batch may hold at most %d customers, got %d", s.cfg.MaxBatch, len(in))}}
		s.reportIngest(ctx, res, len(in), opt)
		return res, nil
	}
	problems, invalid := models.ValidateCustomers(in)

	// The transaction may run more than once (see transact): everything it decides is
	// recomputed from the validation's outcome on each run.
	var written *IngestResult
	rejected, everyAccount := false, false
	write := func(tx *gorm.DB, conn *sql.Conn) error {
		rejected = false
		run := &IngestResult{Customers: []*models.Customer{}, Summary: emptySummary(opt.DryRun)}
		bad := slices.Clone(invalid)
		if err := s.lock(tx, ingestKeys(in)); err != nil {
			return err
		}
		existing, err := customersByIDs(tx, s.dialect, inputIDs(in))
		if err != nil {
			return err
		}
		run.Problems = append(slices.Clone(problems), forbiddenCustomers(scope, in, existing, bad)...)
		sortByCustomer(run.Problems)
		written = run
		skipped := 0
		for _, b := range bad {
			if b {
				skipped++
			}
		}
		if skipped > 0 && !opt.SkipInvalid {
			rejected = true
			return errRollback
		}
		run.Summary.SkippedCustomers = skipped
		rows := models.BuildRows(in, func(i int) bool { return !bad[i] })
		w := &writer{tx: tx, conn: conn, d: s.dialect, now: time.Now().UTC().Truncate(time.Microsecond), sum: &run.Summary, everyAccount: everyAccount}
		if err := w.write(rows, existing); err != nil {
			return err
		}
		if opt.DryRun {
			return errRollback
		}
		run.Customers = rows.Customers
		return nil
	}
	err := s.transactOn(ctx, true, write)
	if isUniqueViolation(err) && ctx.Err() == nil {
		// Holder rows or cards of an account not stored, which none of the store's writes
		// leave (a row deleted by hand, say): the batch runs again reading them for every
		// account, and replaces or removes them as for a stored account.
		s.cfg.Logger.WarnContext(ctx, "ingest: holder rows or cards of accounts that are not stored; the batch runs again reading them for every account")
		everyAccount = true
		err = s.transactOn(ctx, true, write)
	}
	if err != nil && !errors.Is(err, errRollback) {
		return nil, s.storeErr(ctx, err)
	}
	res = written
	if errors.Is(err, errRollback) && !opt.DryRun {
		// A rejected batch reports all zeros.
		res.Summary = emptySummary(false)
	}
	refused := 0
	if rejected {
		refused = len(in)
	}
	s.reportIngest(ctx, res, refused, opt)
	return res, nil
}

func emptySummary(dryRun bool) models.IngestSummary {
	return models.IngestSummary{Customers: &models.WriteCounts{}, Accounts: &models.WriteCounts{}, Cards: &models.WriteCounts{}, DryRun: dryRun}
}

// ingestKeys are the keys an ingest reads and writes: its customers and their accounts (an
// account's key covers its holder rows and cards).
func ingestKeys(in []*models.CustomerInput) []string {
	var keys []string
	for _, c := range in {
		if c == nil {
			continue
		}
		if c.SourceCustomerID != nil {
			keys = append(keys, customerKey(*c.SourceCustomerID))
		}
		for _, a := range c.Accounts {
			if a != nil && a.SourceAccountID != nil {
				keys = append(keys, accountKey(*a.SourceAccountID))
			}
		}
	}
	return keys
}

// inputIDs are the batch's customer ids that could be stored; the others are reported by
// validation, and text such as NUL cannot even be compared in PostgreSQL.
func inputIDs(in []*models.CustomerInput) []string {
	ids := make([]string, 0, len(in))
	for _, c := range in {
		if c != nil && c.SourceCustomerID != nil && models.ValidID(*c.SourceCustomerID) {
			ids = append(ids, *c.SourceCustomerID)
		}
	}
	return ids
}

// forbiddenCustomers reports customers the caller may not create, change or move: the stored
// organization and the sent one must both be in scope.
func forbiddenCustomers(scope models.Scope, in []*models.CustomerInput, existing map[string]*models.Customer, invalid []bool) []models.UserError {
	if scope.All() {
		return nil
	}
	var out []models.UserError
	for i, c := range in {
		if c == nil || c.SourceCustomerID == nil {
			continue
		}
		if old, ok := existing[*c.SourceCustomerID]; ok && !scope.Allows(old.OrganizationID) {
			out = append(out, models.UserError{Path: fmt.Sprintf("customers[%d].sourceCustomerId", i), Code: models.UserErrorCodeForbidden,
				Message: "this customer belongs to an organization outside your access"})
			invalid[i] = true
			continue
		}
		if c.OrganizationID != nil && !scope.Allows(*c.OrganizationID) {
			out = append(out, models.UserError{Path: fmt.Sprintf("customers[%d].organizationId", i), Code: models.UserErrorCodeForbidden,
				Message: fmt.Sprintf("organization %q is outside your access", *c.OrganizationID)})
			invalid[i] = true
		}
	}
	return out
}

// sortByCustomer orders problems by the customer index their path starts with, keeping the
// order within one customer.
func sortByCustomer(p []models.UserError) {
	idx := func(path string) int {
		rest, ok := strings.CutPrefix(path, "customers[")
		if !ok {
			return -1
		}
		n, _ := strconv.Atoi(rest[:max(strings.IndexByte(rest, ']'), 0)])
		return n
	}
	sort.SliceStable(p, func(i, j int) bool { return idx(p[i].Path) < idx(p[j].Path) })
}

func customersByIDs(tx *gorm.DB, d dialect, ids []string) (map[string]*models.Customer, error) {
	out := make(map[string]*models.Customer, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := selectRows(tx.Table("customers").Where(d.in("source_customer_id", ids)), customerShape, "customers")
	if err != nil {
		return nil, err
	}
	return index(rows, func(c *models.Customer) string { return c.SourceCustomerID }), nil
}

// writer compares a batch's rows with what is stored and writes only the differences.
type writer struct {
	tx *gorm.DB
	// conn is the connection holding tx (PostgreSQL), for COPY.
	conn *sql.Conn
	d    dialect
	now  time.Time
	sum  *models.IngestSummary
	// everyAccount reads the stored holder rows and cards of every account of the batch, not
	// only of those found stored.
	everyAccount bool
}

// insertChunk keeps multi-row statements under both databases' parameter limits.
const insertChunk = 500

func (w *writer) write(rows *models.Rows, existingCustomers map[string]*models.Customer) error {
	var customers []*models.Customer
	for i, c := range rows.Customers {
		old := existingCustomers[c.SourceCustomerID]
		if !stamp(w.now, w.sum.Customers, c, old, (*models.Customer).SameAttributes, customerTimes) {
			rows.Customers[i] = old // the payload shows the stored row
			continue
		}
		customers = append(customers, c)
	}
	newCustomer := func(c *models.Customer) bool { return existingCustomers[c.SourceCustomerID] == nil }
	if err := writeRows(w, customers, newCustomer, customersPG, "source_customer_id"); err != nil {
		return err
	}

	accountIDs := make([]string, len(rows.Accounts))
	for i, a := range rows.Accounts {
		accountIDs[i] = a.SourceAccountID
	}
	stored, err := selectRows(w.tx.Table("accounts").Where(w.d.in("source_account_id", accountIDs)), accountShape, "accounts")
	if err != nil {
		return err
	}
	storedAccounts := index(stored, func(a *models.Account) string { return a.SourceAccountID })
	// Holder rows and cards are written only with their account, and deleted with it
	// (DeleteCustomer), so only the accounts found stored can have any: a first load of new
	// accounts reads none. Rows left by other means are found when a write collides with
	// them, and then every account's are read (Ingest).
	held := accountIDs
	if !w.everyAccount {
		held = make([]string, 0, len(stored))
		for _, a := range stored {
			held = append(held, a.SourceAccountID)
		}
	}
	storedHolders, err := holdersOf(w.tx, w.d, held)
	if err != nil {
		return err
	}
	var storedCards []*models.Card
	if len(held) > 0 {
		storedCards, err = selectRows(w.tx.Table("cards").Where(w.d.in("source_account_id", held)), cardShape, "cards")
		if err != nil {
			return err
		}
	}
	stray := strayCards(storedCards, rows.Accounts)

	// An account is compared with both its row and its holder rows, so a stored state in which
	// the two disagree (or a card's holder does not hold its account) is repaired by sending
	// the account again.
	var accounts, holderChanged []*models.Account
	for _, a := range rows.Accounts {
		old := storedAccounts[a.SourceAccountID]
		holdersDiffer := !slices.Equal(storedHolders[a.SourceAccountID], a.SourceCustomerIDs)
		same := func(x, y *models.Account) bool { return !holdersDiffer && x.SameAttributes(y) }
		if holdersDiffer || stray[a.SourceAccountID] {
			holderChanged = append(holderChanged, a)
		}
		if stamp(w.now, w.sum.Accounts, a, old, same, accountTimes) {
			accounts = append(accounts, a)
		}
	}
	newAccount := func(a *models.Account) bool { return storedAccounts[a.SourceAccountID] == nil }
	if err := writeRows(w, accounts, newAccount, accountsPG, "source_account_id"); err != nil {
		return err
	}
	deleted, err := replaceHolders(w.tx, w.conn, w.d, holderChanged, storedHolders, stray)
	if err != nil {
		return err
	}
	w.sum.Cards.Deleted += deleted

	cardsByKey := index(storedCards, (*models.Card).Key)
	var cards []*models.Card
	for _, c := range rows.Cards {
		if stamp(w.now, w.sum.Cards, c, cardsByKey[c.Key()], (*models.Card).SameAttributes, cardTimes) {
			cards = append(cards, c)
		}
	}
	newCard := func(c *models.Card) bool { return cardsByKey[c.Key()] == nil }
	return writeRows(w, cards, newCard, cardsPG, "source_account_id", "source_customer_id", "last4")
}

// writeRows writes rows that are new (isNew) or changed: on PostgreSQL in at most two
// statements, a COPY of the new rows and an upsert of the others (ingest_postgres.go); on
// SQLite through GORM's multi-row upserts.
func writeRows[T any](w *writer, rows []*T, isNew func(*T) bool, pg *pgTable[T], key ...string) error {
	if w.d != dialectPostgres {
		return upsertRows(w.tx, rows, key)
	}
	var fresh, changed []*T
	for _, r := range rows {
		if isNew(r) {
			fresh = append(fresh, r)
		} else {
			changed = append(changed, r)
		}
	}
	if err := pg.write(w.tx, w.conn, fresh, true); err != nil {
		return err
	}
	return pg.write(w.tx, w.conn, changed, false)
}

// holdersOf reads the holder rows of the given accounts, each account's holders in position
// order.
func holdersOf(tx *gorm.DB, d dialect, accountIDs []string) (map[string][]string, error) {
	out := make(map[string][]string, len(accountIDs))
	if len(accountIDs) == 0 {
		return out, nil
	}
	rows, err := tx.Table("account_holders").Select("source_account_id, source_customer_id").
		Where(d.in("source_account_id", accountIDs)).Order("source_account_id, position").Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var account, customer string
		if err := rows.Scan(&account, &customer); err != nil {
			return nil, err
		}
		out[account] = append(out[account], customer)
	}
	return out, rows.Err()
}

// strayCards tells which of the accounts hold a stored card whose holder the account's new
// holder list does not name.
func strayCards(stored []*models.Card, accounts []*models.Account) map[string]bool {
	type holding struct{ account, customer string }
	holders := make(map[holding]bool)
	for _, a := range accounts {
		for _, h := range a.SourceCustomerIDs {
			holders[holding{a.SourceAccountID, h}] = true
		}
	}
	out := map[string]bool{}
	for _, c := range stored {
		if !holders[holding{c.SourceAccountID, c.SourceCustomerID}] {
			out[c.SourceAccountID] = true
		}
	}
	return out
}

// stamp compares a row with its stored version (nil when the row is new): it counts the row,
// gives it its timestamps (updatedAt moves only on a real change), and reports whether the row
// must be written.
func stamp[T any](now time.Time, n *models.WriteCounts, row, old *T, same func(a, b *T) bool, times func(*T) (created, updated *time.Time)) bool {
	created, updated := times(row)
	switch {
	case old == nil:
		*created, *updated = now, now
		n.Created++
	case same(old, row):
		n.Unchanged++
		return false
	default:
		oldCreated, _ := times(old)
		*created, *updated = *oldCreated, now
		n.Updated++
	}
	return true
}

func customerTimes(c *models.Customer) (*time.Time, *time.Time) { return &c.CreatedAt, &c.UpdatedAt }
func accountTimes(a *models.Account) (*time.Time, *time.Time)   { return &a.CreatedAt, &a.UpdatedAt }
func cardTimes(c *models.Card) (*time.Time, *time.Time)         { return &c.CreatedAt, &c.UpdatedAt }

// index keys rows by key.
func index[K comparable, T any](rows []*T, key func(*T) K) map[K]*T {
	out := make(map[K]*T, len(rows))
	for _, r := range rows {
		out[key(r)] = r
	}
	return out
}

// upsertRows inserts rows, replacing every column but the key and created_at of rows that
// exist.
func upsertRows[T any](tx *gorm.DB, rows []*T, key []string) error {
	if len(rows) == 0 {
		return nil
	}
	cols := make([]clause.Column, len(key))
	for i, k := range key {
		cols[i] = clause.Column{Name: k}
	}
	stmt := &gorm.Statement{DB: tx}
	if err := stmt.Parse(rows[0]); err != nil {
		return err
	}
	var update []string
	for _, f := range stmt.Schema.Fields {
		if f.DBName != "" && !f.PrimaryKey && f.DBName != "created_at" {
			update = append(update, f.DBName)
		}
	}
	return tx.Clauses(clause.OnConflict{Columns: cols, DoUpdates: clause.AssignmentColumns(update)}).
		CreateInBatches(rows, insertChunk).Error
}

// replaceHolders rewrites the holder rows of the given accounts from their SourceCustomerIDs
// and removes their cards whose holder no longer holds the account (a card's holder must hold
// its account). It returns how many cards went. conn is the connection holding tx, or nil.
//
// stored are the holder rows and stray the accounts with such cards, as read under the
// accounts' locks (holdersOf, strayCards): holder rows and cards of an account are written
// only under its lock, so the deletes go only to the accounts that have something to delete,
// and a first load, whose accounts have neither, deletes nothing.
func replaceHolders(tx *gorm.DB, conn *sql.Conn, d dialect, accounts []*models.Account, stored map[string][]string, stray map[string]bool) (cardsDeleted int, err error) {
	if len(accounts) == 0 {
		return 0, nil
	}
	var held, strays []string
	var holders []*models.AccountHolder
	for _, a := range accounts {
		if len(stored[a.SourceAccountID]) > 0 {
			held = append(held, a.SourceAccountID)
		}
		if stray[a.SourceAccountID] {
			strays = append(strays, a.SourceAccountID)
		}
		for pos, h := range a.SourceCustomerIDs {
			holders = append(holders, &models.AccountHolder{SourceAccountID: a.SourceAccountID, SourceCustomerID: h, Position: pos})
		}
	}
	if len(held) > 0 {
		if err := tx.Where(d.in("source_account_id", held)).Delete(&models.AccountHolder{}).Error; err != nil {
			return 0, err
		}
	}
	insert := func() error { return tx.CreateInBatches(holders, insertChunk).Error }
	if d == dialectPostgres {
		insert = func() error { return holdersPG.write(tx, conn, holders, true) }
	}
	if len(holders) > 0 {
		if err := insert(); err != nil {
			return 0, err
		}
	}
	if len(strays) == 0 {
		return 0, nil
	}
	in := d.in("cards.source_account_id", strays)
	res := tx.Where(in).Where("NOT EXISTS (SELECT 1 FROM account_holders h WHERE h.source_account_id = cards.source_account_id" +
		" AND h.source_customer_id = cards.source_customer_id)").Delete(&models.Card{})
	return int(res.RowsAffected), res.Error
}
