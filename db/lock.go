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
// and its cards). On SQLite, writers already run one at a time (BEGIN IMMEDIATE takes the
// database's write lock), so there is nothing to lock.
//
// On PostgreSQL a key is its 64-bit hash (two keys of one hash serialize more, never less), and
// its lock is a row lock on the key's row of write_locks (migration 00004). Row locks are kept
// in the rows themselves, not in PostgreSQL's shared lock table, which holds
// max_locks_per_transaction × max_connections entries for the whole cluster: a transaction
// holds the same few heavyweight locks (on the relations it touches, and while it waits, on
// the transaction it waits for) whether it locks one key or thousands. The rows carry nothing
// but the key, so the table is unlogged: after a crash it is empty and the rows are made again
// on demand. It grows by one row per distinct key ever written.
//
// A transaction locks all its keys in two statements, each going through them in ascending
// order:
//
//  1. INSERT ... ON CONFLICT DO NOTHING makes the rows of keys that have none. A key can so be
//     locked before its customer or account exists: two ingests creating one account queue
//     instead of colliding. The statement waits only where another transaction inserted the
//     key's row and has not ended (its uncommitted row holds the key as a lock would); a
//     committed row, locked or not, is passed over.
//  2. SELECT ... FOR UPDATE locks the other rows, each once its holder has ended (the rows
//     the transaction inserted itself are held by it already).
//
// No two transactions that lock in one call can deadlock. Rows are never deleted, so after
// step 1 each of the transaction's keys has a committed row or one it inserted itself, and no
// one else can insert it any more. In step 1 a transaction waits only for the inserter of a
// key's row, holding only rows it inserted of smaller keys; in step 2 only for the locker of
// a committed row (uncommitted rows are invisible to it, and step 1 waited for their
// inserters), holding locks on rows of smaller keys. A transaction in step 1 has locked no
// row, so no one in step 2 waits for it: a cycle of waits would run wholly among transactions
// in step 1, or wholly among transactions in step 2, and in either every wait is for a
// greater key than the waiter holds, which cannot come round to where it started.
//
// Transactions stay READ COMMITTED: a key's lock is granted once its previous holder has
// ended, and every statement after the lock sees what that holder committed.
//
// Second, a transaction that PostgreSQL still aborts for a deadlock or a serialization failure
// (keys locked in a second call, as deleteCustomer does, a row of another table, or a
// statement of someone outside this process) is retried whole, a bounded number of times with
// jittered backoff; only then does the caller get a coded, retryable SERVICE_UNAVAILABLE.

// maxAttempts bounds how often one write transaction runs.
const maxAttempts = 6

// customerKey and accountKey name the lockable things.
func customerKey(id string) string { return "customer\x00" + id }
func accountKey(id string) string  { return "account\x00" + id }

// lock locks each key for the rest of the transaction (PostgreSQL only), in the global order.
// Keys this transaction has locked already are locked again without waiting.
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
	// The rows the insert makes are held until the transaction ends (see above): only the
	// others need locking.
	fresh, err := insertKeys(tx, ids)
	if err != nil {
		return err
	}
	slices.Sort(fresh)
	rest := slices.DeleteFunc(ids, func(k int) bool { _, ok := slices.BinarySearch(fresh, k); return ok })
	if len(rest) == 0 {
		return nil
	}
	// Counted, not returned: reading the rows back cost allocations per key.
	var locked int
	if err := tx.Raw("SELECT count(*) FROM (SELECT FROM write_locks WHERE k = ANY(CAST(? AS bigint[])) ORDER BY k FOR UPDATE) AS locked",
		pgArray[int](rest)).Scan(&locked).Error; err != nil {
		return err
	}
	if locked != len(rest) {
		// None of the store's statements deletes rows; a DELETE by hand between the two did.
		return fmt.Errorf("locked %d of %d keys: rows of write_locks went missing", locked, len(rest))
	}
	return nil
}

// insertKeys makes the rows of the keys that have none and returns the keys it made.
func insertKeys(tx *gorm.DB, ids []int) ([]int, error) {
	rows, err := tx.Raw("INSERT INTO write_locks (k) SELECT k FROM unnest(CAST(? AS bigint[])) AS k ORDER BY k ON CONFLICT DO NOTHING RETURNING k",
		pgArray[int](ids)).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var made []int
	for rows.Next() {
		var k int
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		made = append(made, k)
	}
	return made, rows.Err()
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
