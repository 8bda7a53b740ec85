package db

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// PostgreSQL's disk_full (53100) and io_error (58030) are SERVICE_UNAVAILABLE with a message
// naming the fault, for reads and writes alike; the cause log keys them by SQLSTATE and hides
// the file name PostgreSQL quotes.
func TestPostgresStorageFaults(t *testing.T) {
	c, _, buf := testCauseLog()
	s := &Store{causes: c}
	ctx := context.Background()
	for code, want := range map[string]string{"53100": faultFull, "58030": faultIO} {
		pgErr := &pgconn.PgError{Severity: "ERROR", Code: code, Message: `could not extend file "base/16384/24601": No space left on device`}
		err := s.storeErr(ctx, fmt.Errorf("insert customers: %w", pgErr))
		var coded *models.Error
		if !errors.As(err, &coded) || coded.Code != models.ErrServiceUnavailable || coded.Message != want {
			t.Errorf("%s: got %v, want SERVICE_UNAVAILABLE %q", code, err, want)
		}
		if got := lines(buf, "level=WARN", `cause="SQLSTATE `+code+`"`, `reason="`+want+`"`); len(got) != 1 {
			t.Errorf("%s: cause lines %q", code, got)
		}
	}
	if strings.Contains(buf.String(), "base/16384") {
		t.Errorf("the log shows the quoted file name:\n%s", buf)
	}
	// An error in the statement stays internal.
	err := s.storeErr(ctx, &pgconn.PgError{Code: "42P01", Message: `relation "x" does not exist`})
	var coded *models.Error
	if !errors.As(err, &coded) || coded.Code != models.ErrInternal {
		t.Errorf("42P01: got %v, want INTERNAL_SERVER_ERROR", err)
	}
}

// Ready costs a ping while writes work; after a write failed for a storage fault it writes the
// probe row, and a probe that commits marks the store writing again. On both stores.
func TestReadyProbesWritesAfterAFault(t *testing.T) {
	stores := map[string]string{"sqlite": filepath.Join(t.TempDir(), "test.db")}
	if base := postgresURLOrEmpty(t); base != "" {
		stores["postgres"] = pgTestSchema(t, base)
	}
	for kind, url := range stores {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			s, err := Open(ctx, Config{URL: url, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			probes := func() (n int64) {
				t.Helper()
				if err := s.gdb.Raw("SELECT coalesce(sum(n), 0) FROM write_probe").Scan(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n
			}
			if err := s.Ready(ctx); err != nil || probes() != 0 {
				t.Fatalf("healthy: Ready %v, %d probe writes, want nil and none", err, probes())
			}
			s.noteWrite(fmt.Errorf("commit: %w", &pgconn.PgError{Code: "53100"}))
			for range 2 {
				if err := s.Ready(ctx); err != nil {
					t.Fatalf("Ready after a fault, with writes working again: %v", err)
				}
			}
			if n := probes(); n != 1 {
				t.Errorf("%d probe writes, want 1 (the probe that committed ends the fault)", n)
			}
		})
	}
}
