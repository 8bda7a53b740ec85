package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
)

// The joint accounts the concurrent writers fight over, and the customers that may hold them.
var (
	jointAccounts = []string{"J0", "J1", "J2"}
	jointHolders  = []string{"H0", "H1", "H2", "H3", "H4", "H5"}
)

// randomHolders picks a random non-empty holder list (in random order) that contains must.
func randomHolders(r *rand.Rand, must string) []string {
	list := []string{must}
	for _, h := range jointHolders {
		if h != must && r.IntN(2) == 0 {
			list = append(list, h)
		}
	}
	r.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	return list
}

// randomIngest builds one batch: a random subset of the holders, in random order, each nesting
// every joint account it holds in this batch. Each joint account gets one holder list for the
// whole batch (occurrences must agree) and a card for some of its holders, spread over the
// occurrences, so the account's cards are the union.
func randomIngest(r *rand.Rand) []any {
	holders := map[string][]string{}
	for _, a := range jointAccounts {
		holders[a] = randomHolders(r, jointHolders[r.IntN(len(jointHolders))])
	}
	order := slices.Clone(jointHolders)
	r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	var batch []any
	for _, h := range order[:1+r.IntN(len(order))] {
		c := customer(h, "O1")
		accounts := []any{c["accounts"].([]any)[0]} // its own account
		for _, a := range jointAccounts {
			if !slices.Contains(holders[a], h) {
				continue
			}
			hs := make([]any, len(holders[a]))
			var cards []obj
			for i, x := range holders[a] {
				hs[i] = x
				if r.IntN(2) == 0 {
					cards = append(cards, card(a, x, fmt.Sprintf("%04d", 1000+i), "412345"))
				}
			}
			acc := account(a, hs, cards...)
			acc["primarySourceCustomerId"] = holders[a][0]
			accounts = append(accounts, acc)
		}
		c["accounts"] = accounts
		batch = append(batch, c)
	}
	return batch
}

const toggleAccount = `mutation($id: String!, $p: AccountPatch!) { updateAccount(sourceAccountId: $id, patch: $p) {
	account { sourceAccountId } userErrors { path code message } } }`

// -writers-for runs the concurrent writers for a duration instead of a fixed number of requests
// each, for a soak: go test -run TestConcurrentWriters -writers-for 60s -v .
var writersFor = flag.Duration("writers-for", 0, "run TestConcurrentWritersKeepInvariants's writers for this long")

// TestConcurrentWritersKeepInvariants runs eight writers at once on the same joint accounts:
// four ingest random batches (random holder lists, random key order, cards under several
// holders), four replace the accounts' holders with updateAccount, one of them toggling
// [H0,H1] and [H0,H2] as a support agent would. Every request must get a definite answer (no
// INTERNAL_SERVER_ERROR, no SERVICE_UNAVAILABLE after retries), and afterwards, read back
// through the API, every account's sourceCustomerIds must equal its holders, its primary must
// be one of them, every card's holder must hold its account, and each customer's accounts
// must be exactly those that list it.
func TestConcurrentWritersKeepInvariants(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		var seed []any
		for _, h := range jointHolders {
			c := customer(h, "O1")
			if h == "H0" {
				for _, a := range jointAccounts {
					c["accounts"] = append(c["accounts"].([]any), account(a, []any{"H0"}))
				}
			}
			seed = append(seed, c)
		}
		e.mustIngest(t, seed...)

		const writers, requests = 8, 30
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			failures []string
			answered int
		)
		// While they write, a reader checks the committed state in single snapshots.
		raw := rawDB(t, e.kind, e.cfg.databaseURL)
		var snapshots, inconsistent atomic.Int64
		var firstBad atomic.Value
		done := make(chan struct{})
		checked := make(chan struct{})
		go func() {
			defer close(checked)
			for {
				select {
				case <-done:
					return
				case <-time.After(5 * time.Millisecond):
				}
				bad, err := snapshotProblems(raw, e.kind)
				if err != nil {
					continue // SQLite may be busy; the next snapshot will do
				}
				snapshots.Add(1)
				if len(bad) > 0 {
					inconsistent.Add(1)
					firstBad.CompareAndSwap(nil, bad[0])
				}
			}
		}()
		deadline := time.Now().Add(*writersFor)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), 7))
				for i := 0; i < requests || time.Now().Before(deadline); i++ {
					var (
						resp gqlResponse
						err  error
					)
					switch {
					case w < 4:
						resp, err = e.send(ingestQuery, obj{"customers": randomIngest(r)})
					case w == 4:
						hs := []any{"H0", "H1"}
						if i%2 == 1 {
							hs = []any{"H0", "H2"}
						}
						resp, err = e.send(toggleAccount, obj{"id": "J0", "p": obj{"sourceCustomerIds": hs, "primarySourceCustomerId": "H0"}})
					default:
						a := jointAccounts[r.IntN(len(jointAccounts))]
						hs := randomHolders(r, jointHolders[r.IntN(len(jointHolders))])
						resp, err = e.send(toggleAccount, obj{"id": a, "p": obj{"sourceCustomerIds": hs, "primarySourceCustomerId": hs[len(hs)-1]}})
					}
					mu.Lock()
					switch {
					case err != nil:
						failures = append(failures, err.Error())
					case resp.status != http.StatusOK || len(resp.Errors) > 0:
						failures = append(failures, fmt.Sprintf("HTTP %d: %+v", resp.status, resp.Errors))
					case bytes.Contains(resp.Data, []byte(`"code"`)):
						failures = append(failures, "user errors: "+string(resp.Data))
					default:
						answered++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(done)
		<-checked
		if len(failures) > 0 {
			t.Fatalf("%d of %d requests failed, first: %s", len(failures), answered+len(failures), failures[0])
		}
		retried := strings.Count(e.logs.String(), "transaction retried")
		t.Logf("%s: %d writers, %d requests answered, %d transactions retried (%d logged), %d of %d snapshots inconsistent",
			e.kind, writers, answered, e.store.Retries(), retried, inconsistent.Load(), snapshots.Load())
		if n := inconsistent.Load(); n > 0 {
			t.Errorf("%d of %d committed snapshots were inconsistent, first: %v", n, snapshots.Load(), firstBad.Load())
		}
		if uint64(retried) != e.store.Retries() {
			t.Errorf("%d retries, but %d logged", e.store.Retries(), retried)
		}
		if bad, err := snapshotProblems(raw, e.kind); err != nil || len(bad) > 0 {
			t.Errorf("final state: %v %v", err, bad)
		}
		checkHolderInvariants(t, e)
	})
}

// checkHolderInvariants reads every joint account and holder back through the API and checks
// that they agree.
func checkHolderInvariants(t *testing.T, e *env) {
	t.Helper()
	type ref struct{ SourceAccountID, SourceCustomerID string }
	var out struct {
		Accounts struct {
			Nodes []struct {
				SourceAccountID         string
				SourceCustomerIds       []string
				PrimarySourceCustomerID string
				Holders                 []struct{ SourceCustomerID string }
				Cards                   []ref
			}
		}
		Customers struct {
			Nodes []struct {
				SourceCustomerID string
				Accounts         []struct{ SourceAccountID string }
				Cards            []ref
			}
		}
	}
	e.query(t, `{
		accounts(first: 500) { nodes { sourceAccountId sourceCustomerIds primarySourceCustomerId
			holders { sourceCustomerId } cards { sourceAccountId sourceCustomerId } } }
		customers(first: 500) { nodes { sourceCustomerId accounts { sourceAccountId } cards { sourceAccountId sourceCustomerId } } }
	}`, nil, &out)
	listed := map[ref]bool{} // (account, holder) as the accounts list them
	for _, a := range out.Accounts.Nodes {
		var holders []string
		for _, h := range a.Holders {
			holders = append(holders, h.SourceCustomerID)
			listed[ref{a.SourceAccountID, h.SourceCustomerID}] = true
		}
		// Every holder of these accounts is an ingested, visible customer.
		if !slices.Equal(holders, a.SourceCustomerIds) {
			t.Errorf("account %s: sourceCustomerIds %v but holders %v", a.SourceAccountID, a.SourceCustomerIds, holders)
		}
		if !slices.Contains(a.SourceCustomerIds, a.PrimarySourceCustomerID) {
			t.Errorf("account %s: primary %s is not among %v", a.SourceAccountID, a.PrimarySourceCustomerID, a.SourceCustomerIds)
		}
		for _, c := range a.Cards {
			if !slices.Contains(a.SourceCustomerIds, c.SourceCustomerID) {
				t.Errorf("account %s: card of %s, who does not hold it (%v)", a.SourceAccountID, c.SourceCustomerID, a.SourceCustomerIds)
			}
		}
	}
	for _, c := range out.Customers.Nodes {
		mine := map[string]bool{}
		for _, a := range c.Accounts {
			mine[a.SourceAccountID] = true
			if !listed[ref{a.SourceAccountID, c.SourceCustomerID}] {
				t.Errorf("customer %s: lists account %s, which does not list it", c.SourceCustomerID, a.SourceAccountID)
			}
		}
		for r := range listed {
			if r.SourceCustomerID == c.SourceCustomerID && !mine[r.SourceAccountID] {
				t.Errorf("customer %s: account %s lists it, but its accounts do not include it", c.SourceCustomerID, r.SourceAccountID)
			}
		}
		for _, k := range c.Cards {
			if !mine[k.SourceAccountID] {
				t.Errorf("customer %s: holds a card on %s, an account it does not hold", c.SourceCustomerID, k.SourceAccountID)
			}
		}
	}
}

// snapshotProblems reads accounts, holder rows and cards in one snapshot and lists every way
// they disagree.
func snapshotProblems(raw *gorm.DB, kind string) ([]string, error) {
	var bad []string
	opts := &sql.TxOptions{ReadOnly: true}
	if kind == "postgres" {
		opts.Isolation = sql.LevelRepeatableRead
	}
	err := raw.Transaction(func(tx *gorm.DB) error {
		var accounts []struct {
			SourceAccountID, SourceCustomerIDs, PrimarySourceCustomerID string
		}
		var holders []struct {
			SourceAccountID, SourceCustomerID string
		}
		var cards []struct {
			SourceAccountID, SourceCustomerID string
		}
		if err := tx.Raw("SELECT source_account_id, source_customer_ids, primary_source_customer_id FROM accounts").Scan(&accounts).Error; err != nil {
			return err
		}
		if err := tx.Raw("SELECT source_account_id, source_customer_id FROM account_holders ORDER BY source_account_id, position").Scan(&holders).Error; err != nil {
			return err
		}
		if err := tx.Raw("SELECT source_account_id, source_customer_id FROM cards").Scan(&cards).Error; err != nil {
			return err
		}
		rows := map[string][]string{}
		for _, h := range holders {
			rows[h.SourceAccountID] = append(rows[h.SourceAccountID], h.SourceCustomerID)
		}
		lists := map[string][]string{}
		for _, a := range accounts {
			var list []string
			if err := json.Unmarshal([]byte(a.SourceCustomerIDs), &list); err != nil {
				return err
			}
			lists[a.SourceAccountID] = list
			if !slices.Equal(list, rows[a.SourceAccountID]) {
				bad = append(bad, fmt.Sprintf("account %s lists %v, holder rows %v", a.SourceAccountID, list, rows[a.SourceAccountID]))
			}
			if !slices.Contains(list, a.PrimarySourceCustomerID) {
				bad = append(bad, fmt.Sprintf("account %s: primary %s not among %v", a.SourceAccountID, a.PrimarySourceCustomerID, list))
			}
		}
		for _, c := range cards {
			if !slices.Contains(lists[c.SourceAccountID], c.SourceCustomerID) {
				bad = append(bad, fmt.Sprintf("card of %s on %s, which lists %v", c.SourceCustomerID, c.SourceAccountID, lists[c.SourceAccountID]))
			}
		}
		return nil
	}, opts)
	return bad, err
}

// jointAccountJ ingests customers A, B and C, A and B holding the joint account J with A's card
// 1111 on it, and returns them and damage, which runs statements against the store's
// database beneath the server.
func jointAccountJ(t *testing.T, e *env) (a, b, c obj, damage func(stmts ...string)) {
	t.Helper()
	a = customer("A", "O1")
	a["accounts"] = []any{account("J", []any{"A", "B"}, card("J", "A", "1111", "412345"))}
	b, c = customer("B", "O1"), customer("C", "O1")
	e.mustIngest(t, a, b, c)
	raw := rawDB(t, e.kind, e.cfg.databaseURL)
	return a, b, c, func(stmts ...string) {
		t.Helper()
		for _, stmt := range stmts {
			if err := raw.Exec(stmt).Error; err != nil {
				t.Fatalf("damage: %v", err)
			}
		}
	}
}

// cardOfCOnJ gives C, who does not hold J, a card on it (a copy of A's).
const cardOfCOnJ = "INSERT INTO cards (source_account_id, source_customer_id, last4, iin, card_type, status, network_identifier, open_date, created_at, updated_at)" +
	" SELECT 'J', 'C', '9999', iin, card_type, status, network_identifier, open_date, created_at, updated_at FROM cards WHERE source_account_id = 'J' AND last4 = '1111'"

// TestResendRepairsHolderRows damages the holder rows and cards of a joint account so that they
// disagree with its holder list, then sends the same data again: an identical re-ingest, and an
// updateAccount naming the same holders, each restore a consistent state.
func TestResendRepairsHolderRows(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a, b, c, damageJ := jointAccountJ(t, e)
		damage := func() {
			t.Helper()
			damageJ("DELETE FROM account_holders WHERE source_account_id = 'J' AND source_customer_id = 'B'",
				"INSERT INTO account_holders (source_account_id, source_customer_id, position) VALUES ('J', 'C', 1)",
				cardOfCOnJ)
		}

		damage()
		p := e.mustIngest(t, a, b, c)
		if p.Summary.Accounts.Updated != 1 {
			t.Errorf("re-ingest of a damaged account: accounts %+v, want 1 updated", p.Summary.Accounts)
		}
		checkHolderInvariants(t, e)

		damage()
		var out struct {
			UpdateAccount struct{ UserErrors []struct{ Code string } }
		}
		e.query(t, toggleAccount, obj{"id": "J", "p": obj{"sourceCustomerIds": []any{"A", "B"}}}, &out)
		if len(out.UpdateAccount.UserErrors) > 0 {
			t.Fatalf("updateAccount: %+v", out.UpdateAccount.UserErrors)
		}
		checkHolderInvariants(t, e)
		if strings.Contains(e.logs.String(), "level=ERROR") {
			t.Errorf("errors logged:\n%s", e.logs)
		}
	})
}

// TestIngestReplacesRowsOfAnAccountNotStored leaves holder rows and cards of a joint account
// whose row is gone (deleted by hand: no write of the store leaves them), one holder row and
// one card naming a customer the account does not list, then sends the account again. An
// ingest reads holder rows and cards only of the accounts it finds stored; here its writes
// collide with the rows left, and the batch runs again reading them for every account: the
// account is created, the stray holder and card go, and the rest stays as it was.
func TestIngestReplacesRowsOfAnAccountNotStored(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		a, b, c, damage := jointAccountJ(t, e)
		damage("INSERT INTO account_holders (source_account_id, source_customer_id, position) VALUES ('J', 'C', 2)",
			cardOfCOnJ, "DELETE FROM accounts WHERE source_account_id = 'J'")
		var sent struct {
			IngestCustomers struct {
				Summary struct {
					Accounts struct{ Created int }
					Cards    struct{ Created, Updated, Unchanged, Deleted int }
				}
				UserErrors []struct{ Path, Code, Message string }
			}
		}
		e.query(t, ingestQuery, obj{"customers": []any{a, b, c}}, &sent)
		if p := sent.IngestCustomers; len(p.UserErrors) > 0 || p.Summary.Accounts.Created != 1 || p.Summary.Cards.Deleted != 1 || p.Summary.Cards.Unchanged != 3 {
			t.Errorf("ingest: %+v; want J created, C's card on J deleted, the others (A's on J, B's and C's own) unchanged", p)
		}
		checkHolderInvariants(t, e)
		var out struct {
			Account struct {
				Holders []struct{ SourceCustomerID string }
				Cards   []struct{ Last4 string }
			}
		}
		e.query(t, `{ account(sourceAccountId: "J") { holders { sourceCustomerId } cards { last4 } } }`, nil, &out)
		if fmt.Sprint(out.Account) != "{[{A} {B}] [{1111}]}" {
			t.Errorf("J after the ingest: %+v, want held by A and B with A's card", out.Account)
		}
		logs := e.logs.String()
		if !strings.Contains(logs, "holder rows or cards of accounts that are not stored") {
			t.Errorf("the batch did not run again reading every account's rows; logs:\n%s", logs)
		}
		if strings.Contains(logs, "level=ERROR") {
			t.Errorf("errors logged:\n%s", logs)
		}
	})
}

// TestConcurrentIngestsInRandomOrder has eight writers ingest overlapping batches of customers
// in random key order, each changing what it sends, so that every batch updates rows others
// are updating too. None may fail: writers queue on their keys instead of deadlocking.
func TestConcurrentIngestsInRandomOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		all := many(300, "O1")
		e.mustIngest(t, all...)
		var wg sync.WaitGroup
		errs := make(chan string, 8*10)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), 11))
				for range 10 {
					order := r.Perm(len(all))[:100]
					batch := make([]any, len(order))
					for i, k := range order {
						batch[i] = with(all[k].(obj), "postalCode", fmt.Sprintf("%05d", r.IntN(100000)))
					}
					resp, err := e.send(ingestQuery, obj{"customers": batch})
					switch {
					case err != nil:
						errs <- err.Error()
					case resp.status != http.StatusOK || len(resp.Errors) > 0:
						errs <- fmt.Sprintf("HTTP %d: %+v", resp.status, resp.Errors)
					}
				}
			}()
		}
		wg.Wait()
		if failed := received(errs); len(failed) > 0 {
			t.Fatalf("%d of 80 ingests failed, first: %s", len(failed), failed[0])
		}
		t.Logf("%s: 80 ingests of 100 overlapping customers, %d transactions retried", e.kind, e.store.Retries())
	})
}

// TestDeadlockIsRetried makes PostgreSQL abort an ingest for a deadlock with a transaction
// outside the server (one that locks the same rows in the other order and waits longer before
// it checks for deadlocks): the ingest is run again, succeeds, and the retry is logged.
func TestDeadlockIsRetried(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		if e.kind != "postgres" {
			t.Skip("SQLite runs one writer at a time")
		}
		e.mustIngest(t, customer("A", "O1"), customer("B", "O1"))
		sqlDB, err := rawDB(t, e.kind, e.cfg.databaseURL).DB()
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		for _, stmt := range []string{"SET LOCAL deadlock_timeout = '20s'", "UPDATE customers SET postal_code = '11111' WHERE source_customer_id = 'B'"} {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		result := make(chan gqlResponse, 1)
		go func() {
			// A then B: it locks A's row and waits for B's.
			resp, err := e.send(ingestQuery, obj{"customers": []any{with(customer("A", "O1"), "postalCode", "22222"), with(customer("B", "O1"), "postalCode", "22222")}})
			if err != nil {
				resp.Errors = []gqlError{{Message: err.Error()}}
			}
			result <- resp
		}()
		waitForLockWait(t, sqlDB, must(url.Parse(e.cfg.databaseURL)).Query().Get("application_name"), "INSERT INTO%")
		// Now the outside transaction waits for A: a deadlock, which the ingest's session finds
		// first (deadlock_timeout 1s) and is aborted for.
		if _, err := tx.ExecContext(ctx, "UPDATE customers SET postal_code = '11111' WHERE source_customer_id = 'A'"); err != nil {
			t.Fatalf("outside transaction: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		resp := <-result
		if len(resp.Errors) > 0 {
			t.Fatalf("ingest: %+v", resp.Errors)
		}
		if e.store.Retries() == 0 || !strings.Contains(e.logs.String(), "sqlstate=40P01") {
			t.Errorf("want a logged retry after deadlock; retries %d, log:\n%s", e.store.Retries(), e.logs)
		}
		var out struct{ Customer struct{ PostalCode string } }
		e.query(t, `{ customer(sourceCustomerId: "A") { postalCode } }`, nil, &out)
		if out.Customer.PostalCode != "22222" {
			t.Errorf("A's postal code %q, want the retried ingest's 22222", out.Customer.PostalCode)
		}
	})
}

// waitForLockWait waits until a session of the application waits for a lock in a statement
// like the pattern (of LIKE).
func waitForLockWait(t *testing.T, sqlDB *sql.DB, app, pattern string) {
	t.Helper()
	for range 500 {
		var n int
		if err := sqlDB.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $2 AND application_name = $1", app, pattern).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no statement like %q waited for a lock", pattern)
}

// received closes ch, which no one sends on any more, and returns what it holds.
func received[T any](ch chan T) []T {
	close(ch)
	var out []T
	for v := range ch {
		out = append(out, v)
	}
	return out
}
