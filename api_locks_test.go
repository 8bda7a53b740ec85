package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentLargeIngestsKeepTheLockTable sends 32 ingests of 1,000 new customers each (two
// accounts and three cards per customer: 3,000 keys to lock per batch) at once, on a
// PostgreSQL with its default lock table (max_locks_per_transaction × max_connections entries
// for the whole cluster). Every ingest succeeds and the totals are exact; the server has no
// more sessions than its pool, and none holds more entries of the shared lock table than
// max_locks_per_transaction, whatever its batch; and a session on another database of the
// cluster, taking locks all along, never finds the table full.
func TestConcurrentLargeIngestsKeepTheLockTable(t *testing.T) {
	base := postgresURL(t)
	// The requests queue for the pool's connections; how long they take on a loaded machine
	// is for benchmarks to say, not for this test.
	e := newEnv(t, "postgres", func(c *config) { c.requestTimeout = 2 * time.Minute })
	const writers, batch = 32, 1000

	raw := must(rawDB(t, e.kind, e.cfg.databaseURL).DB())
	var perTx, conns int
	if err := raw.QueryRow("SELECT current_setting('max_locks_per_transaction')::int, current_setting('max_connections')::int").Scan(&perTx, &conns); err != nil {
		t.Fatal(err)
	}
	t.Logf("max_locks_per_transaction = %d, max_connections = %d, pool = %d", perTx, conns, e.cfg.dbMaxConns)

	bodies := make([]obj, writers)
	for w := range bodies {
		customers := make([]any, batch)
		for i := range customers {
			id := fmt.Sprintf("W%02d-C%04d", w, i)
			c := customer(id, fmt.Sprintf("O%d", i%5))
			c["accounts"] = append(c["accounts"].([]any),
				account("B-"+id, []any{id}, card("B-"+id, id, "2345", "412346"), card("B-"+id, id, "3456", "412345")))
			customers[i] = c
		}
		bodies[w] = obj{"customers": customers}
	}

	done := make(chan struct{})
	var background sync.WaitGroup

	// Another database of the cluster: each round needs lock-table entries of its own.
	other := must(url.Parse(base))
	other.Path = "/postgres"
	otherDB := must(sql.Open("pgx", other.String()))
	t.Cleanup(func() { otherDB.Close() })
	var rounds atomic.Int64
	otherErrs := make(chan error, 1)
	background.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			if err := lockingRound(otherDB, i); err != nil {
				otherErrs <- err
				return
			}
			rounds.Add(1)
		}
	})

	// Sampled all along: the most entries of the shared lock table (not fast-path) one session
	// of the server held, and the most sessions of the server at once.
	var most, sessions atomic.Int64
	app := must(url.Parse(e.cfg.databaseURL)).Query().Get("application_name")
	background.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			var n, m int64
			if err := raw.QueryRow(`SELECT (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM pg_locks
					WHERE NOT fastpath AND pid = ANY(s.pids) GROUP BY pid) AS l), cardinality(s.pids)
				FROM (SELECT array_agg(pid) AS pids FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()) AS s`, app).Scan(&n, &m); err != nil {
				t.Error(err)
				return
			}
			most.Store(max(most.Load(), n))
			sessions.Store(max(sessions.Load(), m))
		}
	})

	start := time.Now()
	failed := make(chan string, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			resp, err := e.send(ingestQuery, bodies[w])
			switch {
			case err != nil:
				failed <- err.Error()
			case resp.status != http.StatusOK || len(resp.Errors) > 0:
				failed <- fmt.Sprintf("HTTP %d: %+v", resp.status, resp.Errors)
			default:
				var out struct{ IngestCustomers ingestPayload }
				err := json.Unmarshal(resp.Data, &out)
				s := out.IngestCustomers.Summary
				if err != nil || len(out.IngestCustomers.UserErrors) > 0 || s.Customers.Created != batch || s.Accounts.Created != 2*batch || s.Cards.Created != 3*batch {
					failed <- fmt.Sprintf("summary %+v, user errors %+v, %v", s, out.IngestCustomers.UserErrors, err)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	background.Wait()
	if msgs := received(failed); len(msgs) > 0 {
		t.Errorf("%d of %d ingests failed, first: %s", len(msgs), writers, msgs[0])
	}
	select {
	case err := <-otherErrs:
		t.Errorf("a session on another database of the cluster failed after %d rounds: %v", rounds.Load(), err)
	default:
	}
	if rounds.Load() == 0 {
		t.Error("the session on another database ran no round while the ingests ran")
	}
	if m := most.Load(); m > int64(perTx) {
		t.Errorf("a session of the server held %d entries of the shared lock table, more than max_locks_per_transaction (%d)", m, perTx)
	}
	if m := sessions.Load(); m > int64(e.cfg.dbMaxConns) {
		t.Errorf("the server had %d sessions at once, more than its pool (%d)", m, e.cfg.dbMaxConns)
	}
	t.Logf("%d ingests of %d customers in %v; at most %d sessions, %d shared lock-table entries per session; %d rounds on the other database; %d retries",
		writers, batch, elapsed.Round(time.Millisecond), sessions.Load(), most.Load(), rounds.Load(), e.store.Retries())

	var totals struct{ Customers, Accounts, Cards struct{ TotalCount int } }
	e.query(t, `{ customers { totalCount } accounts { totalCount } cards { totalCount } }`, nil, &totals)
	if totals.Customers.TotalCount != writers*batch || totals.Accounts.TotalCount != 2*writers*batch || totals.Cards.TotalCount != 3*writers*batch {
		t.Errorf("totals %+v, want %d customers, %d accounts, %d cards", totals, writers*batch, 2*writers*batch, 3*writers*batch)
	}
}

// lockingRound is one transaction that needs entries of the shared lock table: a temporary
// table (its relation and type) and eight advisory locks on keys of its own.
func lockingRound(db *sql.DB, i int) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(fmt.Sprintf("CREATE TEMP TABLE lock_round_%d (x int) ON COMMIT DROP", i)); err != nil {
		return err
	}
	if _, err := tx.Exec("SELECT count(pg_advisory_xact_lock(k)) FROM generate_series($1::bigint, $1::bigint + 7) AS k", int64(i)*8); err != nil {
		return err
	}
	return tx.Commit()
}

// A PostgreSQL out of a resource (SQLSTATE class 53: disk, memory, lock table, connections, a
// configured limit) is a retryable SERVICE_UNAVAILABLE, 503, not an internal error: here a
// server whose sessions may write no temporary file (temp_file_limit 0) sends an ingest whose
// sorts outgrow work_mem.
func TestOutOfResourcesIsServiceUnavailable(t *testing.T) {
	postgresURL(t)
	e := newEnv(t, "postgres", func(c *config) { c.databaseURL += "&work_mem=64kB&temp_file_limit=0" })
	r := e.post(t, ingestQuery, obj{"customers": many(1000, "O1")})
	if len(r.Errors) == 0 || r.Errors[0].code() != "SERVICE_UNAVAILABLE" || r.status != http.StatusServiceUnavailable {
		t.Errorf("got %d %+v", r.status, r.Errors)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "SQLSTATE 53400") {
		t.Errorf("the log shows no SQLSTATE 53400 (temp_file_limit):\n%s", logs)
	}
	if n := e.customerCount(t); n != 0 {
		t.Errorf("%d customers stored, want none", n)
	}
}

// On PostgreSQL a writer locks a key by its row in write_locks, the 64-bit FNV-1a hash of the
// key: it waits for a transaction that inserted the key's row and has not ended (a key locked
// before its customer exists), and for one that holds the row locked.
func TestWriterQueuesOnItsKeys(t *testing.T) {
	postgresURL(t)
	e := newEnv(t, "postgres", nil)
	sqlDB := must(rawDB(t, e.kind, e.cfg.databaseURL).DB())
	app := must(url.Parse(e.cfg.databaseURL)).Query().Get("application_name")
	h := fnv.New64a()
	_, _ = h.Write([]byte("customer\x00N"))
	key := int64(h.Sum64())

	for _, step := range []struct {
		hold, waits string
		postalCode  string
		want        counts
	}{
		{"INSERT INTO write_locks (k) VALUES ($1)", "INSERT INTO write_locks%", "11111", counts{Created: 1}},
		{"SELECT k FROM write_locks WHERE k = $1 FOR UPDATE", "SELECT count(*) FROM (SELECT FROM write_locks%", "22222", counts{Updated: 1}},
	} {
		tx := must(sqlDB.BeginTx(t.Context(), nil))
		if _, err := tx.Exec(step.hold, key); err != nil {
			t.Fatal(err)
		}
		result := make(chan gqlResponse, 1)
		go func() {
			resp, err := e.send(ingestQuery, obj{"customers": []any{with(customer("N", "O1"), "postalCode", step.postalCode)}})
			if err != nil {
				resp.Errors = []gqlError{{Message: err.Error()}}
			}
			result <- resp
		}()
		waitForLockWait(t, sqlDB, app, step.waits)
		select {
		case r := <-result:
			t.Fatalf("the ingest ended while another transaction held its key (%s): %+v", step.hold, r)
		case <-time.After(100 * time.Millisecond):
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		r := <-result
		var out struct{ IngestCustomers ingestPayload }
		if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil || out.IngestCustomers.Summary.Customers != step.want {
			t.Fatalf("after %s: got %+v %s, want customers %+v", step.hold, r.Errors, r.Data, step.want)
		}
	}
}
