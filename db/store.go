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
	gate         *gate          // PostgreSQL: fails new connections fast while the database is down

	started    chan struct{} // closed when start succeeded or failed for good
	startMu    sync.Mutex
	startErr   error     // why the store has not started yet; nil once it has
	startFatal error     // a start that failed for good
	causes     *causeLog // why the store answered SERVICE_UNAVAILABLE
	// writeFault is the storage fault the last write transaction failed with, nil once one
	// committed (see Ready).
	writeFault atomic.Pointer[storageFault]
}

// Open connects to the database of cfg and migrates its schema to the latest version this
// build knows (see Migrate), unless cfg.NoMigrate. It fails when the database does not answer:
// commands use it; the server uses Start.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s, err := open(cfg)
	if err != nil {
		return nil, err
	}
	if s.gate != nil {
		s.gate.quiet = true
	}
	if err := s.start(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// Start is Open for a server that must come up before its database: it returns at once, and
// the store connects and migrates in the background, again and again with backoff while the
// database is unreachable. Until it has, Started reports why not. Only a bad configuration
// is an error here; a failure other than an unreachable database (a migration that fails)
// ends the start, and WaitStarted returns it.
func Start(ctx context.Context, cfg Config) (*Store, error) {
	s, err := open(cfg)
	if err != nil {
		return nil, err
	}
	s.notStarted(errors.New("connecting"))
	go s.keepStarting(ctx)
	return s, nil
}

// open builds the store without talking to the database.
func open(cfg Config) (*Store, error) {
	cfg = withDefaults(cfg)
	gcfg := &gorm.Config{
		SkipDefaultTransaction: true,
		Logger:                 &sqlLogger{log: cfg.Logger, onStatement: cfg.OnStatement, observe: cfg.Observer.Statement, slow: cfg.SlowStatement},
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		TranslateError:         true,
		DisableAutomaticPing:   true, // start pings, with backoff where the caller wants it
	}
	var (
		gdb          *gorm.DB
		d            dialect
		err          error
		genericReads bool
		g            *gate
	)
	kind, path, err := ParseDatabaseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if kind == "postgres" {
		d = dialectPostgres
		gdb, g, genericReads, err = openPostgres(cfg, gcfg)
	} else {
		d = dialectSQLite
		gdb, err = openSQLite(path, cfg, gcfg)
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
	s := &Store{gdb: gdb, sqlDB: sqlDB, dialect: d, cfg: cfg, genericReads: genericReads, gate: g, started: make(chan struct{}), causes: newCauseLog(cfg.Logger)}
	s.kept.verify = cfg.VerifyStatements
	if d == dialectSQLite {
		s.writer = make(chan struct{}, 1)
	}
	return s, nil
}

// start pings the database and migrates its schema (unless cfg.NoMigrate).
func (s *Store) start(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return &connectError{err: err}
	}
	if !s.cfg.NoMigrate {
		schema, err := s.Migrate(ctx)
		if err != nil {
			return err
		}
		s.schema = schema
		for _, m := range s.schema.Applied {
			s.cfg.Logger.Info("schema: migration applied", "version", m.Version, "name", m.Name, "duration", m.Duration.Round(time.Millisecond))
		}
		if s.schema.Newer() {
			// Serving on: migrations keep the schema readable and writable by the previous release
			// (README, Migrations), so that a release can be rolled back without its schema.
			s.cfg.Logger.Warn("schema: the database is newer than this build; serving without migrating",
				"version", s.schema.Version, "latest", s.schema.Latest)
		} else {
			s.cfg.Logger.Info("schema", "version", s.schema.Version)
		}
	}
	s.startMu.Lock()
	s.startErr = nil
	s.startMu.Unlock()
	close(s.started)
	return nil
}

// Start's backoff between attempts: the gate (connect.go) paces the dialling itself, so a
// retry that finds it closed costs nothing.
const (
	startMinWait = 50 * time.Millisecond
	startMaxWait = time.Second
)

// keepStarting runs start until it succeeds, the context ends, or it fails for a reason
// other than an unreachable database.
func (s *Store) keepStarting(ctx context.Context) {
	wait, logged := startMinWait, time.Time{}
	for {
		err := s.start(ctx)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			s.fail(ctx.Err())
			return
		}
		if !isUnavailable(err) {
			s.fail(err)
			return
		}
		s.notStarted(err)
		if time.Since(logged) >= 10*time.Second {
			s.cfg.Logger.Warn("waiting for the database", "err", safeError(err))
			logged = time.Now()
		}
		select {
		case <-ctx.Done():
			s.fail(ctx.Err())
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, startMaxWait)
	}
}

func (s *Store) notStarted(err error) {
	s.startMu.Lock()
	s.startErr = err
	s.startMu.Unlock()
}

// fail ends a start that cannot succeed.
func (s *Store) fail(err error) {
	s.startMu.Lock()
	s.startErr, s.startFatal = err, err
	s.startMu.Unlock()
	close(s.started)
}

// Started returns nil once the store is connected and migrated, else a SERVICE_UNAVAILABLE
// error saying why not.
func (s *Store) Started() error {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if s.startErr == nil {
		return nil
	}
	return &wrapped{code: models.ErrServiceUnavailable, msg: "the database is not available yet", err: s.startErr}
}

// WaitStarted blocks until the store has started (nil), its start failed for good (the
// error), or ctx ends.
func (s *Store) WaitStarted(ctx context.Context) error {
	select {
	case <-s.started:
		s.startMu.Lock()
		defer s.startMu.Unlock()
		return s.startFatal
	case <-ctx.Done():
		return ctx.Err()
	}
}

func withDefaults(cfg Config) Config {
	if cfg.URL == "" {
		cfg.URL = DefaultSQLitePath
	}
	if cfg.MaxOpenConns <= 0 {
		cfg.MaxOpenConns = 16
		if kind, _, _ := ParseDatabaseURL(cfg.URL); kind != "postgres" {
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

// ParseDatabaseURL tells which store a database URL names: "postgres" for a postgres:// or
// postgresql:// URL, or "sqlite" with the file's path for "file:PATH" or a path ending in .db,
// .sqlite or .sqlite3 (empty: DefaultSQLitePath). Anything else is refused, so that a typo
// ("postgress://…", "127.0.0.1:5432") never starts a new SQLite file named after it.
func ParseDatabaseURL(raw string) (kind, path string, err error) {
	switch {
	case raw == "":
		return "sqlite", DefaultSQLitePath, nil
	case isPostgresURL(raw):
		return "postgres", "", nil
	case strings.HasPrefix(raw, "file:"):
		path = strings.TrimPrefix(raw, "file:")
		if path == "" || strings.ContainsAny(path, "?#") {
			return "", "", fmt.Errorf("DATABASE_URL %q: an SQLite URL is file:PATH, with no parameters", raw)
		}
		return "sqlite", path, nil
	case !strings.Contains(raw, "://") && slices.ContainsFunc([]string{".db", ".sqlite", ".sqlite3"}, func(ext string) bool { return strings.HasSuffix(raw, ext) }):
		return "sqlite", raw, nil
	}
	return "", "", fmt.Errorf("DATABASE_URL %q is neither a PostgreSQL URL (postgres://USER@HOST:PORT/DB) nor an SQLite file (file:PATH, or a path ending in .db, .sqlite or .sqlite3)", redact(raw))
}

// redact hides a password in a URL that is shown back to the user.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return raw
}

// SQLitePath is the file of the embedded store that a database URL names (DefaultSQLitePath
// for an empty one), or "" when the URL names PostgreSQL or nothing valid.
func SQLitePath(url string) string {
	_, path, _ := ParseDatabaseURL(url)
	return path
}

// openPostgres builds the pool behind the gate (connect.go); genericReads tells whether it set
// plan_cache_mode.
func openPostgres(cfg Config, gcfg *gorm.Config) (gdb *gorm.DB, g *gate, genericReads bool, err error) {
	pcfg, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, nil, false, fmt.Errorf("DATABASE_URL: %w", err)
	}
	// A database host that drops packets would hold each connection attempt for the request's
	// whole time limit; an attempt that gives up by itself closes the gate instead.
	if pcfg.ConnectTimeout == 0 {
		pcfg.ConnectTimeout = 5 * time.Second
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
	g = newGate(stdlib.GetConnector(*pcfg), cfg.Logger)
	sqlDB := sql.OpenDB(g)
	sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
	sqlDB.SetMaxIdleConns(cfg.MaxOpenConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	sqlDB.SetConnMaxLifetime(time.Hour)
	gdb, err = gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gcfg)
	if err != nil {
		_ = sqlDB.Close()
		return nil, nil, false, fmt.Errorf("open PostgreSQL: %w", err)
	}
	return gdb, g, genericReads, nil
}

func openSQLite(path string, cfg Config, gcfg *gorm.Config) (*gorm.DB, error) {
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
	if s.gate != nil {
		s.gate.close()
	}
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
