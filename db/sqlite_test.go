package db

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/portfolio-graph/portfolio-graph/models"
)

func openTestSQLite(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	s, err := Open(context.Background(), Config{URL: path, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// The embedded store runs a current SQLite with the pragmas it asks for, and json_each (the
// SQLite form of "one of these values") works.
func TestSQLiteEngine(t *testing.T) {
	s, _ := openTestSQLite(t)
	ctx := context.Background()
	var version, journal string
	var busy, fk, sync int
	if err := s.sqlDB.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < "3.50" {
		t.Errorf("SQLite %s, want 3.50 or later", version)
	}
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for q, dst := range map[string]any{"PRAGMA journal_mode": &journal, "PRAGMA busy_timeout": &busy, "PRAGMA foreign_keys": &fk, "PRAGMA synchronous": &sync} {
		if err := conn.QueryRowContext(ctx, q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if journal != "wal" || busy != 10000 || fk != 1 || sync != 1 {
		t.Errorf("pragmas: journal_mode=%s busy_timeout=%d foreign_keys=%d synchronous=%d, want wal 10000 1 1 (NORMAL)", journal, busy, fk, sync)
	}
	var n int
	in := s.dialect.in("value", []string{"a", `b"'`, "c"})
	if err := s.sqlDB.QueryRowContext(ctx, `SELECT count(*) FROM json_each('["a","b\"''","x"]') WHERE `+in.SQL, in.Vars...).Scan(&n); err != nil || n != 2 {
		t.Errorf("json_each: got %d, %v; want 2", n, err)
	}
}

// A write that finds the file locked by another writer fails as SERVICE_UNAVAILABLE, not as an
// internal error: isUnavailable recognises the driver's SQLITE_BUSY. Writers take the lock at
// BEGIN (IMMEDIATE), so a second writer waits there rather than failing to upgrade later.
func TestSQLiteBusyIsUnavailable(t *testing.T) {
	s, path := openTestSQLite(t)
	ctx := context.Background()
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	holder, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback() //nolint:errcheck
	if _, err := holder.ExecContext(ctx, "INSERT INTO account_holders (source_account_id, source_customer_id, position) VALUES ('A', 'C', 0)"); err != nil {
		t.Fatal(err)
	}

	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = 50"); err != nil {
		t.Fatal(err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err == nil {
		_, err = tx.ExecContext(ctx, "DELETE FROM account_holders")
		tx.Rollback() //nolint:errcheck
		t.Fatal("a second writer began while the first held the lock: transactions are not IMMEDIATE")
	}
	if !isUnavailable(err) {
		t.Fatalf("isUnavailable(%v) = false, want true", err)
	}
	var coded *models.Error
	if se := s.storeErr(ctx, err); !errors.As(se, &coded) || coded.Code != models.ErrServiceUnavailable {
		t.Errorf("storeErr: got %v, want SERVICE_UNAVAILABLE", se)
	}
}
