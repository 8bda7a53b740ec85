package db

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// maxLoggedSQL is how much of a statement's text a log line keeps: enough to tell which
// statement it is, not a multi-row upsert whole.
const maxLoggedSQL = 300

func init() {
	// Statements run by Scan are traced through GORM's recorder, which interpolates bound values
	// unless this filter drops them: no value bound to SQL (customer ids, postal codes) may
	// reach a log line.
	logger.RecorderParamsFilter = func(_ context.Context, sql string, _ ...any) (string, []any) { return sql, nil }
}

// sqlLogger adapts GORM's logger to slog: failed statements at debug (the caller sees only a
// coded error), slow ones at warn. A statement is logged by its text with placeholders, never
// with the values bound to it, and cut to maxLoggedSQL bytes; SQL text goes to the log, never
// into a response.
type sqlLogger struct {
	log         *slog.Logger
	onStatement func()
	observe     func(ctx context.Context, elapsed time.Duration, failed bool)
	slow        time.Duration
}

func (l *sqlLogger) LogMode(logger.LogLevel) logger.Interface { return l }

// ParamsFilter drops the values bound to a statement before GORM writes them into the text it
// passes to Trace.
func (l *sqlLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

// GORM's own messages (Info, Warn, Error) come as a printf format and its arguments: names,
// source locations and errors. They are logged formatted, on one line, with an error among
// the arguments written as safeError writes it (without the values a PostgreSQL message may
// quote). GORM's Info is its own set-up ("replacing callback" on every start with PostgreSQL):
// debug, not info.
func (l *sqlLogger) Info(ctx context.Context, msg string, args ...any) {
	if l.log.Enabled(ctx, slog.LevelDebug) {
		l.log.DebugContext(ctx, gormMessage(msg, args))
	}
}

func (l *sqlLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, gormMessage(msg, args))
}

func (l *sqlLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, gormMessage(msg, args))
}

// gormMessage is one of GORM's messages with its arguments written in, its whitespace (the
// trailing newline, the new lines and tabs of a driver's error) made single spaces.
func gormMessage(format string, args []any) string {
	safe := make([]any, len(args))
	for i, a := range args {
		if err, ok := a.(error); ok {
			a = safeError(err)
		}
		safe[i] = a
	}
	return strings.TrimSpace(spaces.ReplaceAllString(fmt.Sprintf(format, safe...), " "))
}

func (l *sqlLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if l.onStatement != nil {
		l.onStatement()
	}
	elapsed := time.Since(begin)
	if l.observe != nil {
		l.observe(ctx, elapsed, err != nil && !errors.Is(err, gorm.ErrRecordNotFound))
	}
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && l.log.Enabled(ctx, slog.LevelDebug):
		sql, rows := fc()
		l.log.DebugContext(ctx, "sql failed", "err", safeError(err), "sql", shortSQL(sql), "rows", rows, "ms", elapsed.Milliseconds())
	case l.slow > 0 && elapsed > l.slow:
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow sql", "sql", shortSQL(sql), "rows", rows, "ms", elapsed.Milliseconds())
	}
}

var (
	spaces = regexp.MustCompile(`\s+`)
	// GORM's Explain, given no values, marks PostgreSQL's $1 as $1$.
	unboundPlaceholder = regexp.MustCompile(`\$(\d+)\$`)
)

// shortSQL is a statement's text on one line, cut to maxLoggedSQL bytes.
func shortSQL(sql string) string { return cutSQL(sql, maxLoggedSQL) }

// cutSQL is a statement's text on one line, cut to max bytes.
func cutSQL(sql string, max int) string {
	sql = unboundPlaceholder.ReplaceAllString(sql, "$$$1")
	sql = strings.TrimSpace(spaces.ReplaceAllString(sql, " "))
	if len(sql) <= max {
		return sql
	}
	return strings.ToValidUTF8(sql[:max], "") + "…"
}

var quoted = regexp.MustCompile(`"[^"]*"`)

// safeError is a database error's text without the values it may quote: PostgreSQL writes
// the offending value into some messages (invalid input syntax for type uuid: "…"), so a
// PostgreSQL error is its code, its message with quoted parts hidden, and the constraint, table
// and column it names; its detail ("Key (id)=(…) already exists") is left out.
func safeError(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		// pgx puts each address it tried to connect to on a line of its own.
		return oneLine.Replace(err.Error())
	}
	var b strings.Builder
	b.WriteString("SQLSTATE " + pgErr.Code + ": " + quoted.ReplaceAllString(pgErr.Message, `"…"`))
	for _, kv := range [][2]string{{"constraint", pgErr.ConstraintName}, {"table", pgErr.TableName}, {"column", pgErr.ColumnName}} {
		if kv[1] != "" {
			b.WriteString(" " + kv[0] + "=" + kv[1])
		}
	}
	return b.String()
}

var oneLine = strings.NewReplacer(":\n\t", ": ", "\n\t", "; ", "\n", "; ")
