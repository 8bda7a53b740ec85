// Package db is the storage layer: it opens PostgreSQL or the embedded SQLite file, keeps the
// schema up to date, and holds every query the API runs. Every read takes the caller's
// models.Scope and applies it in SQL.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// DefaultSQLitePath is where the embedded store lives when no DATABASE_URL is given.
const DefaultSQLitePath = "data/portfolio.db"

// Config says which database to open and how to pace it.
type Config struct {
	// URL is a postgres:// (or postgresql://) URL; anything else is the path of an SQLite
	// file, and empty means DefaultSQLitePath.
	URL string
	// MaxOpenConns caps the connection pool (default 16 for PostgreSQL, 4 for SQLite).
	MaxOpenConns int
	// StatementTimeout bounds every PostgreSQL statement on the server side (default 30s);
	// request contexts cancel statements earlier.
	StatementTimeout time.Duration
	// DefaultPage and MaxPage bound connection page sizes (defaults 50 and 500).
	DefaultPage, MaxPage int
	// MaxBatch bounds the customers of one ingest (default 1000).
	MaxBatch int
	// Logger receives slow and failed statements (default slog.Default()).
	Logger *slog.Logger
	// SlowStatement is the duration beyond which a statement is logged as slow, by its text
	// with placeholders (default 200ms; negative: never).
	SlowStatement time.Duration
	// OnStatement, if set, is called once for every SQL statement sent; tests count with it.
	OnStatement func()
	// Observer is told about statements and ingests, for the access log, metrics and traces.
	Observer Observer
	// NoMigrate opens the database without touching its schema (the migrate command reads
	// the status first).
	NoMigrate bool
	// VerifyStatements builds every statement GORM would otherwise build once and keep
	// (memo.go) through GORM, and fails it when its SQL differs from the kept SQL: for tests.
	VerifyStatements bool
}

// Store is the database behind the API.
type Store struct {
	gdb     *gorm.DB
	sqlDB   *sql.DB
	dialect dialect
	cfg     Config
	retries atomic.Uint64 // write transactions run again after a deadlock or serialization failure
	writer  chan struct{} // SQLite: held by the one write transaction of this process under way
	schema  Schema
	// genericReads is set when sessions plan generically by this store's default (see
	// openPostgres); write transactions then plan as PostgreSQL does by default.
	genericReads bool
	kept         keptStatements // SQL of the reads built once (memo.go)
	causes       *causeLog      // why the store answered SERVICE_UNAVAILABLE
	// writeFault is the storage fault the last write transaction failed with, nil once one
	// committed (see Ready).
	writeFault atomic.Pointer[storageFault]
}

// Open connects to the database of cfg and migrates its schema to the latest version this
// build knows (see Migrate), unless cfg.NoMigrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg = withDefaults(cfg)
	gcfg := &gorm.Config{
		SkipDefaultTransaction: true,
		Logger:                 &sqlLogger{log: cfg.Logger, onStatement: cfg.OnStatement, observe: cfg.Observer.Statement, slow: cfg.SlowStatement},
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		TranslateError:         true,
	}
	var (
		gdb          *gorm.DB
		d            dialect
		err          error
		genericReads bool
	)
	if isPostgresURL(cfg.URL) {
		d = dialectPostgres
		gdb, genericReads, err = openPostgres(cfg, gcfg)
	} else {
		d = dialectSQLite
		gdb, err = openSQLite(cfg, gcfg)
	}
	if err != nil {
		return nil, err
	}
	if err := traceStatements(gdb, cfg.Observer.Tracer, d); err != nil {
		return nil, err
	}
	sqlDB, err := gdb.DB()
	if err == nil && d == dialectPostgres {
		err = replaceRowQuery(gdb, sqlDB)
	}
	if err == nil {
		err = gdb.Callback().Row().Before("gorm:row").Register("portfolio:keep_sql", keepBuiltSQL)
	}
	if err != nil {
		return nil, err
	}
	s := &Store{gdb: gdb, sqlDB: sqlDB, dialect: d, cfg: cfg, genericReads: genericReads, causes: newCauseLog(cfg.Logger)}
	s.kept.verify = cfg.VerifyStatements
	if d == dialectSQLite {
		s.writer = make(chan struct{}, 1)
	}
	if cfg.NoMigrate {
		return s, nil
	}
	if s.schema, err = s.Migrate(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	for _, m := range s.schema.Applied {
		cfg.Logger.Info("schema: migration applied", "version", m.Version, "name", m.Name, "duration", m.Duration.Round(time.Millisecond))
	}
	if s.schema.Newer() {
		// Serving on: migrations keep the schema readable and writable by the previous release
		// (README, Migrations), so that a release can be rolled back without its schema.
		cfg.Logger.Warn("schema: the database is newer than this build; serving without migrating",
			"version", s.schema.Version, "latest", s.schema.Latest)
	} else {
		cfg.Logger.Info("schema", "version", s.schema.Version)
	}
	return s, nil
}

func withDefaults(cfg Config) Config {
	if cfg.URL == "" {
		cfg.URL = DefaultSQLitePath
	}
	if cfg.MaxOpenConns <= 0 {
		cfg.MaxOpenConns = 16
		if !isPostgresURL(cfg.URL) {
			cfg.MaxOpenConns = 4
		}
	}
	if cfg.StatementTimeout <= 0 {
		cfg.StatementTimeout = 30 * time.Second
	}
	if cfg.DefaultPage <= 0 {
		cfg.DefaultPage = 50
	}
	if cfg.MaxPage <= 0 {
		cfg.MaxPage = 500
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SlowStatement == 0 {
		cfg.SlowStatement = 200 * time.Millisecond
	}
	return cfg
}

func isPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// SQLitePath is the file of the embedded store that a database URL names (DefaultSQLitePath
// for an empty one), or "" when the URL names PostgreSQL.
func SQLitePath(url string) string {
	switch {
	case isPostgresURL(url):
		return ""
	case url == "":
		return DefaultSQLitePath
	}
	return url
}

// openPostgres connects; genericReads tells whether it set plan_cache_mode.
func openPostgres(cfg Config, gcfg *gorm.Config) (gdb *gorm.DB, genericReads bool, err error) {
	pcfg, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, false, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if _, ok := pcfg.RuntimeParams["statement_timeout"]; !ok {
		pcfg.RuntimeParams["statement_timeout"] = fmt.Sprint(cfg.StatementTimeout.Milliseconds())
	}
	// Timestamps travel as timestamptz and come back in UTC whatever the server's zone.
	pcfg.RuntimeParams["timezone"] = "UTC"
	// pgx prepares every statement once per connection. PostgreSQL would still plan each
	// execution anew for its parameters: with "col = ANY($1)" the generic plan never looks
	// cheaper than a custom one, so it never switches, and planning the look-ups of a request
	// cost about three times their execution. Reads are key look-ups and pages in index
	// order, whose plan does not depend on the values. Write transactions go back to the
	// default (transact): a generic plan made while a table was still empty would stay with
	// its connection until the next ANALYZE, which made a first load three times slower.
	// A URL may still set the mode for everything.
	if _, ok := pcfg.RuntimeParams["plan_cache_mode"]; !ok {
		pcfg.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
		genericReads = true
	}
	sqlDB := stdlib.OpenDB(*pcfg)
	sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
	sqlDB.SetMaxIdleConns(cfg.MaxOpenConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	sqlDB.SetConnMaxLifetime(time.Hour)
	gdb, err = gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gcfg)
	if err != nil {
		_ = sqlDB.Close()
		return nil, false, fmt.Errorf("open PostgreSQL: %w", err)
	}
	return gdb, genericReads, nil
}

func openSQLite(cfg Config, gcfg *gorm.Config) (*gorm.DB, error) {
	path := cfg.URL
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create the data directory: %w", err)
		}
	}
	// WAL lets readers run while one writer writes; IMMEDIATE transactions take the write
	// lock up front, so two writers queue (busy_timeout) instead of failing to upgrade.
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// Times are written as SQLite's own text format (2006-01-02 15:04:05.999999999-07:00), as
	// every earlier release wrote them: stored text compares and sorts as time only when all
	// rows share one format.
	q.Set("_time_format", "sqlite")
	// Text and integer columns declared as times scan into time.Time (the dialect's defaults
	// when it opens the file itself).
	q.Set("_texttotime", "1")
	q.Set("_inttotime", "1")
	sqlDB, err := openSQLitePool("file:" + path + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
	sqlDB.SetMaxIdleConns(cfg.MaxOpenConns)
	gdb, err := gorm.Open(sqlite.New(sqlite.Config{Conn: sqlDB}), gcfg)
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	return gdb, nil
}

// Close releases the connection pool and logs the repeats of unavailability causes counted
// since their last line.
func (s *Store) Close() error {
	s.causes.flush()
	return s.sqlDB.Close()
}

// Ping tells whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.sqlDB.PingContext(ctx) }

// Dialect names the database in use ("postgres" or "sqlite").
func (s *Store) Dialect() string { return string(s.dialect) }

// Analyze refreshes PostgreSQL's statistics of the portfolio tables. Connections plan
// generically (openPostgres) and keep each plan until the statistics of its tables change:
// after a load into an empty or small database, plans made before autovacuum's next analyze
// would assume the tables as they were. Analyzing sends every connection the new statistics.
// On SQLite it does nothing.
//
// Each table is analyzed on a connection of its own, at once: one ANALYZE of the four tables
// used one core for the half second it took at the end of a load. Analyze takes the tables
// named (of the four), or all four when none is.
func (s *Store) Analyze(ctx context.Context, tables ...string) error {
	if s.dialect != dialectPostgres {
		return nil
	}
	portfolio := []string{"customers", "accounts", "account_holders", "cards"}
	if len(tables) == 0 {
		tables = portfolio
	}
	for _, t := range tables {
		if !slices.Contains(portfolio, t) {
			return fmt.Errorf("analyze: %q is not a portfolio table", t)
		}
	}
	errs := make([]error, len(tables))
	var wg sync.WaitGroup
	for i, t := range tables {
		wg.Go(func() { errs[i] = s.db(ctx).Exec("ANALYZE " + t).Error })
	}
	wg.Wait()
	return s.storeErr(ctx, errors.Join(errs...))
}

// AddWrittenTables adds to tables the portfolio tables an ingest with these counts wrote to,
// for Analyze: an account's holder rows are written when it is created or updated (a change of
// holders updates it), and cards are deleted when their holder leaves the account.
func AddWrittenTables(tables []string, customers, accounts, cards models.WriteCounts) []string {
	wrote := func(c models.WriteCounts) bool { return c.Created+c.Updated+c.Deleted > 0 }
	for _, w := range []struct {
		counts models.WriteCounts
		names  []string
	}{{customers, []string{"customers"}}, {accounts, []string{"accounts", "account_holders"}}, {cards, []string{"cards"}}} {
		if !wrote(w.counts) {
			continue
		}
		for _, name := range w.names {
			if !slices.Contains(tables, name) {
				tables = append(tables, name)
			}
		}
	}
	return tables
}

// PageSizes are the default and largest connection page sizes.
func (s *Store) PageSizes() (def, max int) { return s.cfg.DefaultPage, s.cfg.MaxPage }

// Schema is the schema's state as Open found and left it (zero with Config.NoMigrate).
func (s *Store) Schema() Schema { return s.schema }

// db returns a session bound to ctx.
func (s *Store) db(ctx context.Context) *gorm.DB { return s.gdb.WithContext(ctx) }

// storeErr turns database failures into coded errors: an unreachable or timed-out database or
// a storage fault (faultOf) is SERVICE_UNAVAILABLE, its cause logged by the cause log (not per
// request); a cancelled request keeps its context error; anything else is
// INTERNAL_SERVER_ERROR with a generic message (the driver's text goes to the log only).
func (s *Store) storeErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	unavailable := func(cause, msg string) error {
		s.causes.note(cause, msg, err)
		return &wrapped{code: models.ErrServiceUnavailable, msg: msg, err: err}
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return unavailable("request timeout", "the request timed out")
		}
		return ctxErr
	}
	if f, ok := faultOf(err); ok {
		return unavailable(f.cause, f.msg)
	}
	if isUnavailable(err) {
		return unavailable(causeOf(err), "the database is unavailable")
	}
	var coded *models.Error
	if errors.As(err, &coded) {
		return err
	}
	return &wrapped{code: models.ErrInternal, msg: "internal server error", err: err}
}

// wrapped keeps the driver error for the log while showing only a coded, safe message.
type wrapped struct {
	code models.ErrorCode
	msg  string
	err  error
}

// Error is for the log: the coded message and the driver's error without the values it quotes.
func (w *wrapped) Error() string { return w.msg + ": " + safeError(w.err) }
func (w *wrapped) Unwrap() error { return w.err }

// As lets errors.As find the coded, caller-safe part (*models.Error).
func (w *wrapped) As(target any) bool {
	if t, ok := target.(**models.Error); ok {
		*t = &models.Error{Code: w.code, Message: w.msg}
		return true
	}
	return false
}
