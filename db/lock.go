package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// Concurrent writers are made serializable in two layers.
//
// First, every write transaction locks the keys it reads before deciding on them: the
// customers and accounts it will compare and write (an account's key covers its holder rows
// and its cards). On PostgreSQL these are transaction-scoped advisory locks, so a key can be
// locked before its row exists (two ingests creating the same account queue instead of
// colliding), and all of a transaction's keys are taken in one statement in ascending order of
// their 64-bit hashes, the one global order, so writers that lock in one step never deadlock on
// each other. Transactions stay READ COMMITTED: each statement after the lock sees what the
// previous holder of the lock committed. On SQLite, writers already run one at a time (BEGIN
// IMMEDIATE takes the database's write lock), so there is nothing to lock.
//
// Second, a transaction that PostgreSQL still aborts for a deadlock or a serialization failure
// (a lock taken in a second step, or a statement of someone outside this process) is retried
// whole, a bounded number of times with jittered backoff; only then does the caller get a
// coded, retryable SERVICE_UNAVAILABLE.

// maxAttempts bounds how often one write transaction runs.
const maxAttempts = 6

// customerKey and accountKey name the lockable things.
func customerKey(id string) string { return "customer\x00" + id }
func accountKey(id string) string  { return "account\x00" + id }

// lock takes an advisory lock on each key for the rest of the transaction (PostgreSQL only), in
// the global order. Locks already held by this transaction are taken again at no cost.
func (s *Store) lock(tx *gorm.DB, keys []string) error {
	if s.dialect != dialectPostgres || len(keys) == 0 {
		return nil
	}
	ids := make([]int, len(keys))
	for i, k := range keys {
		h := fnv.New64a()
		_, _ = h.Write([]byte(k))
		ids[i] = int(int64(h.Sum64()))
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	// unnest yields the array in order, and the aggregate calls the lock function row by row.
	return tx.Exec("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(? AS bigint[])) AS k", pgArray[int](ids)).Error
}

// transact runs fn in one transaction, again from the start when PostgreSQL aborts it for a
// deadlock or a serialization failure. fn must compute everything it returns afresh on each
// run.
func (s *Store) transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.transactOn(ctx, false, func(tx *gorm.DB, _ *sql.Conn) error { return fn(tx) })
}

// transactOn is transact, on PostgreSQL with dedicated set on a connection taken from the pool
// for the transaction, which fn is given (for COPY, which database/sql cannot send); otherwise
// fn is given nil.
func (s *Store) transactOn(ctx context.Context, dedicated bool, fn func(tx *gorm.DB, conn *sql.Conn) error) error {
	if s.writer != nil {
		// SQLite takes one writer at a time; writers of this process queue here, in order and
		// for as long as their request may wait, instead of polling the file lock for
		// busy_timeout (which stays the bound for writers of other processes).
		select {
		case s.writer <- struct{}{}:
			defer func() { <-s.writer }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	run := func(db *gorm.DB, conn *sql.Conn) error {
		return db.Transaction(func(tx *gorm.DB) error {
			if s.genericReads {
				if err := tx.Exec("SET LOCAL plan_cache_mode = auto").Error; err != nil {
					return err
				}
			}
			return fn(tx, conn)
		})
	}
	for attempt := 1; ; attempt++ {
		var err error
		if dedicated && s.dialect == dialectPostgres {
			err = s.db(ctx).Connection(func(db *gorm.DB) error {
				conn, ok := db.Statement.ConnPool.(*sql.Conn)
				if !ok {
					return fmt.Errorf("a dedicated connection is a %T, not a *sql.Conn", db.Statement.ConnPool)
				}
				return run(db, conn)
			})
		} else {
			err = run(s.db(ctx), nil)
		}
		code := retryable(err)
		if code == "" || ctx.Err() != nil {
			s.noteWrite(err)
			return err
		}
		if attempt == maxAttempts {
			s.cfg.Logger.WarnContext(ctx, "transaction gave up after retries", "sqlstate", code, "attempts", attempt)
			return &wrapped{code: models.ErrServiceUnavailable, msg: "the write collided with concurrent writes; send it again", err: err}
		}
		total := s.retries.Add(1)
		s.cfg.Logger.WarnContext(ctx, "transaction retried", "sqlstate", code, "attempt", attempt, "retries_total", total)
		// Full jitter over an exponentially growing window: 2 ms, 4 ms, ... 32 ms.
		wait := time.Duration(rand.Int64N(int64(time.Millisecond << attempt)))
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// retryable returns the SQLSTATE of an error that a fresh run of the same transaction may not
// meet again (40P01 deadlock detected, 40001 serialization failure), or "".
func retryable(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001") {
		return pgErr.Code
	}
	return ""
}

// Retries counts the write transactions run again since the store opened.
func (s *Store) Retries() uint64 { return s.retries.Load() }
