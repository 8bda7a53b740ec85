package db

import (
	"context"
	"os"
	"testing"

	"gorm.io/gorm"
)

// Sessions use generic plans unless the URL says otherwise, and write transactions the
// default (see openPostgres).
func TestPostgresSessionsPlanGenerically(t *testing.T) {
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("under CI=true the PostgreSQL tests must run")
		}
		t.Skip("no PostgreSQL: set TEST_DATABASE_URL")
	}
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
