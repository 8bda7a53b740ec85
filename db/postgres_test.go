package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"

	"gorm.io/gorm"
)

// postgresURL is TEST_DATABASE_URL; without it the test is skipped, or fails under CI=true.
func postgresURL(t *testing.T) string {
	t.Helper()
	base := postgresURLOrEmpty(t)
	if base == "" {
		t.Skip("no PostgreSQL: set TEST_DATABASE_URL")
	}
	return base
}

// postgresURLOrEmpty is TEST_DATABASE_URL, or "" when it is not set (a failure under CI=true).
func postgresURLOrEmpty(t *testing.T) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" && os.Getenv("CI") == "true" {
		t.Fatal("under CI=true the PostgreSQL tests must run")
	}
	return base
}

// pgTestSchema creates a schema for one test, dropped after it, and returns base with its
// search_path.
func pgTestSchema(t *testing.T, base string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "test_db_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Sessions use generic plans unless the URL says otherwise, and write transactions the
// default (see openPostgres).
func TestPostgresSessionsPlanGenerically(t *testing.T) {
	base := postgresURL(t)
	sep := "?"
	for _, c := range base {
		if c == '?' {
			sep = "&"
		}
	}
	for url, want := range map[string]string{base: "force_generic_plan", base + sep + "plan_cache_mode=auto": "auto"} {
		s, err := Open(context.Background(), Config{URL: url, NoMigrate: true})
		if err != nil {
			t.Fatal(err)
		}
		var got, inWrite string
		if err := s.gdb.Raw("SHOW plan_cache_mode").Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		// Write transactions plan as PostgreSQL does by default.
		if err := s.transact(context.Background(), func(tx *gorm.DB) error {
			return tx.Raw("SHOW plan_cache_mode").Scan(&inWrite).Error
		}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if got != want || inWrite != "auto" {
			t.Errorf("plan_cache_mode with %s = %q, in a write transaction %q; want %q and auto", url, got, inWrite, want)
		}
	}
}

// A result's scan plans are kept from row to row only while a column's destination keeps its
// type, and a NULL of an outer join's column leaves its plan for the next row that has a value.
func TestResultScannerFollowsDestinationTypes(t *testing.T) {
	base := postgresURL(t)
	s, err := Open(context.Background(), Config{URL: base, NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type row struct {
		n     int
		text  string
		bytes []byte
		cell  optionalCell
		inner string
	}
	rows, err := scanRows(s.db(context.Background()).Raw(
		"SELECT n, 'v' || n, CASE WHEN n % 3 = 0 THEN NULL ELSE 'o' || n END FROM generate_series(1, 7) AS n ORDER BY n"),
		func(r *row, buf []any) []any {
			r.cell.dest = &r.inner
			buf = append(buf, &r.n)
			return buf
		})
	if err == nil || rows != nil {
		t.Fatalf("a row of 3 columns into 1 destination: rows %v, err %v; want pgx's error", rows, err)
	}
	i := 0
	rows, err = scanRows(s.db(context.Background()).Raw(
		"SELECT n, 'v' || n, CASE WHEN n % 3 = 0 THEN NULL ELSE 'o' || n END FROM generate_series(1, 7) AS n ORDER BY n"),
		func(r *row, buf []any) []any {
			i++
			r.cell.dest = &r.inner
			if i%2 == 0 {
				return append(buf, &r.n, &r.bytes, &r.cell)
			}
			return append(buf, &r.n, &r.text, &r.cell)
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 7 {
		t.Fatalf("%d rows, want 7", len(rows))
	}
	for k, r := range rows {
		n := k + 1
		got := r.text
		if n%2 == 0 {
			got = string(r.bytes)
		}
		wantInner, wantNull := fmt.Sprintf("o%d", n), n%3 == 0
		if wantNull {
			wantInner = ""
		}
		if r.n != n || got != fmt.Sprintf("v%d", n) || r.cell.null != wantNull || r.inner != wantInner {
			t.Errorf("row %d = n %d, text %q, null %v, inner %q; want %d, v%d, %v, %q", n, r.n, got, r.cell.null, r.inner, n, n, wantNull, wantInner)
		}
	}
}
