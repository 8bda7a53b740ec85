package db

import (
	"context"
	"errors"
	"fmt"
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
