package db

import (
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// errUserErrors ends a mutation's transaction when its input broke a rule.
var errUserErrors = errors.New("user errors")

func notFound(path, what string) []models.UserError {
	return []models.UserError{{Path: path, Code: models.UserErrorCodeNotFound, Message: what + " does not exist or is not visible to you"}}
}

// mutate runs fn in one transaction and sorts its outcome: user errors roll back and are
// returned as such; other failures become coded store errors.
// fn may run more than once (see transact) and must not keep state between runs.
func (s *Store) mutate(ctx context.Context, fn func(tx *gorm.DB) ([]models.UserError, error)) ([]models.UserError, error) {
	var problems []models.UserError
	err := s.transact(ctx, func(tx *gorm.DB) error {
		var err error
		problems, err = fn(tx)
		if err == nil && len(problems) > 0 {
			return errUserErrors
		}
		return err
	})
	if errors.Is(err, errUserErrors) {
		return problems, nil
	}
	return nil, s.storeErr(ctx, err)
}

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// update is the shape of every partial update, inside one transaction: lock the row's key, find
// the visible row (NOT_FOUND when there is none), apply the patch (its problems stop it), and
// save the row only if it changed, moving updatedAt. repair, if set, runs on every applied
// patch, changed row or not, and reports whether it had to mend stored state that disagreed
// with the row (which then counts as a change).
func update[T any](s *Store, ctx context.Context, key string, find func(tx *gorm.DB) *gorm.DB, missing []models.UserError,
	apply func(old *T) (*T, []models.UserError), same func(a, b *T) bool, times func(*T) (created, updated *time.Time),
	repair func(tx *gorm.DB, row *T) (bool, error)) (*T, []models.UserError, error) {
	var out *T
	problems, err := s.mutate(ctx, func(tx *gorm.DB) ([]models.UserError, error) {
		out = nil
		if err := s.lock(tx, []string{key}); err != nil {
			return nil, err
		}
		var old T
		if n := find(tx).Limit(1).Find(&old); n.Error != nil || n.RowsAffected == 0 {
			return missing, n.Error
		}
		row, problems := apply(&old)
		if len(problems) > 0 {
			return problems, nil
		}
		changed := !same(row, &old)
		if repair != nil {
			mended, err := repair(tx, row)
			if err != nil {
				return nil, err
			}
			changed = changed || mended
		}
		out = row
		if !changed {
			return nil, nil
		}
		_, updated := times(row)
		*updated = now()
		return nil, tx.Save(row).Error
	})
	if err != nil || len(problems) > 0 {
		return nil, problems, err
	}
	return out, nil, nil
}

// UpdateCustomer changes the fields a patch names. Moving a customer to an organization out of
// the caller's scope is FORBIDDEN.
func (s *Store) UpdateCustomer(ctx context.Context, scope models.Scope, id string, p models.CustomerPatch) (*models.Customer, []models.UserError, error) {
	find := func(tx *gorm.DB) *gorm.DB {
		return s.customerVisible(tx.Table("customers").Where("customers.source_customer_id = ?", id), "customers", scope)
	}
	apply := func(old *models.Customer) (*models.Customer, []models.UserError) {
		c, problems := models.ApplyCustomerPatch(old, p)
		if len(problems) == 0 && !scope.Allows(c.OrganizationID) {
			problems = []models.UserError{{Path: "patch.organizationId", Code: models.UserErrorCodeForbidden,
				Message: "organization " + models.Quote(c.OrganizationID) + " is outside your access"}}
		}
		return c, problems
	}
	return update(s, ctx, customerKey(id), find, notFound("sourceCustomerId", "customer "+models.Quote(id)), apply,
		(*models.Customer).SameAttributes, customerTimes, nil)
}

// UpdateAccount changes the fields a patch names; a new holder set replaces the holder rows and
// removes the cards of holders no longer listed.
func (s *Store) UpdateAccount(ctx context.Context, scope models.Scope, id string, p models.AccountPatch) (*models.Account, []models.UserError, error) {
	find := func(tx *gorm.DB) *gorm.DB {
		return s.accountVisible(tx.Table("accounts").Where("accounts.source_account_id = ?", id), "accounts.source_account_id", scope)
	}
	apply := func(old *models.Account) (*models.Account, []models.UserError) {
		return models.ApplyAccountPatch(old, p)
	}
	return update(s, ctx, accountKey(id), find, notFound("sourceAccountId", "account "+models.Quote(id)), apply,
		(*models.Account).SameAttributes, accountTimes, s.repairHolders)
}

// repairHolders makes an account's holder rows and cards agree with its holder list: rows are
// rewritten when they differ from it, and cards of holders it does not list are removed. It
// reports whether anything had to change.
func (s *Store) repairHolders(tx *gorm.DB, a *models.Account) (bool, error) {
	ids := []string{a.SourceAccountID}
	holders, err := holdersOf(tx, s.dialect, ids)
	if err != nil {
		return false, err
	}
	var cards []*models.Card
	if err := tx.Table("cards").Select("source_account_id, source_customer_id").Where("source_account_id = ?", a.SourceAccountID).
		Find(&cards).Error; err != nil {
		return false, err
	}
	accounts := []*models.Account{a}
	stray := strayCards(cards, accounts)
	if slices.Equal(holders[a.SourceAccountID], a.SourceCustomerIDs) && len(stray) == 0 {
		return false, nil
	}
	_, err = replaceHolders(tx, nil, s.dialect, accounts, holders, stray)
	return true, err
}

// UpdateCard changes the fields a patch names.
func (s *Store) UpdateCard(ctx context.Context, scope models.Scope, key models.CardKey, p models.CardPatch) (*models.Card, []models.UserError, error) {
	find := func(tx *gorm.DB) *gorm.DB {
		q := tx.Table("cards").Where("cards.source_account_id = ? AND cards.source_customer_id = ? AND cards.last4 = ?",
			key.SourceAccountID, key.SourceCustomerID, key.Last4)
		return s.accountVisible(q, "cards.source_account_id", scope)
	}
	apply := func(old *models.Card) (*models.Card, []models.UserError) { return models.ApplyCardPatch(old, p) }
	missing := notFound("last4", "card "+models.Quote(key.Last4)+" of customer "+models.Quote(key.SourceCustomerID)+
		" on account "+models.Quote(key.SourceAccountID))
	return update(s, ctx, accountKey(key.SourceAccountID), find, missing, apply, (*models.Card).SameAttributes, cardTimes, nil)
}

// DeleteCustomer removes a customer and the cards it holds. Each account it held goes too, with
// its cards and holder rows, when no other ingested holder remains; otherwise the account stays
// as it is (its sourceCustomerIds still name the deleted customer).
func (s *Store) DeleteCustomer(ctx context.Context, scope models.Scope, id string) (string, []models.UserError, error) {
	problems, err := s.mutate(ctx, func(tx *gorm.DB) ([]models.UserError, error) {
		held, err := s.lockCustomerAndAccounts(tx, id)
		if err != nil {
			return nil, err
		}
		var c models.Customer
		q := s.customerVisible(tx.Table("customers").Where("customers.source_customer_id = ?", id), "customers", scope)
		if n := q.Limit(1).Find(&c); n.Error != nil || n.RowsAffected == 0 {
			return notFound("sourceCustomerId", "customer "+models.Quote(id)), n.Error
		}
		var orphaned []string
		err = tx.Table("account_holders AS h").Select("h.source_account_id").
			Where("h.source_customer_id = ?", id).Where(s.dialect.in("h.source_account_id", held)).
			Where("NOT EXISTS (SELECT 1 FROM account_holders o JOIN customers oc ON oc.source_customer_id = o.source_customer_id" +
				" WHERE o.source_account_id = h.source_account_id AND o.source_customer_id <> h.source_customer_id)").
			Scan(&orphaned).Error
		if err != nil {
			return nil, err
		}
		if err := tx.Where("source_customer_id = ?", id).Delete(&models.Card{}).Error; err != nil {
			return nil, err
		}
		if len(orphaned) > 0 {
			for _, m := range []any{&models.Card{}, &models.AccountHolder{}, &models.Account{}} {
				if err := tx.Where(s.dialect.in("source_account_id", orphaned)).Delete(m).Error; err != nil {
					return nil, err
				}
			}
		}
		return nil, tx.Delete(&models.Customer{}, "source_customer_id = ?", id).Error
	})
	if err != nil || len(problems) > 0 {
		return "", problems, err
	}
	return models.CustomerNodeID(id), nil, nil
}

// lockCustomerAndAccounts locks a customer and the accounts it holds, and returns those
// accounts. The accounts are found first without a lock so that all the keys are taken in one
// step, in the global order; holders are added to an account only under that account's lock,
// so a second look after locking finds any account that gained the customer meanwhile, which is
// then locked too (the one case where a deadlock, and so a retry, is possible).
func (s *Store) lockCustomerAndAccounts(tx *gorm.DB, id string) ([]string, error) {
	held := func() ([]string, error) {
		var ids []string
		err := tx.Table("account_holders").Where("source_customer_id = ?", id).Order("source_account_id").
			Pluck("source_account_id", &ids).Error
		return ids, err
	}
	before, err := held()
	if err != nil {
		return nil, err
	}
	keys := []string{customerKey(id)}
	for _, a := range before {
		keys = append(keys, accountKey(a))
	}
	if err := s.lock(tx, keys); err != nil || s.dialect != dialectPostgres {
		return before, err
	}
	after, err := held()
	if err != nil {
		return nil, err
	}
	var more []string
	for _, a := range after {
		if _, found := slices.BinarySearch(before, a); !found {
			more = append(more, accountKey(a))
		}
	}
	return after, s.lock(tx, more)
}
