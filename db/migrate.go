package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// The schema is versioned by goose: one directory of SQL migrations per dialect, embedded in
// the binary, numbered 00001_..., applied in order and recorded in versionTable.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// versionTable is goose's version table; it lives in the schema of the search_path, beside the
// data it describes.
const versionTable = goose.DefaultTablename

// Schema is the state of the database's schema against the migrations of this build.
type Schema struct {
	// Version is the highest migration recorded in the database (0: none).
	Version int64
	// Latest is the highest migration this build knows.
	Latest int64
	// Applied lists the migrations this call applied, in order.
	Applied []MigrationRun
	// Baselined is true when this call found a database created before migrations were
	// versioned and recorded it at version 1 without running version 1.
	Baselined bool
}

// Newer tells whether the database has migrations this build does not know.
func (s Schema) Newer() bool { return s.Version > s.Latest }

// MigrationRun is one migration applied.
type MigrationRun struct {
	Version  int64
	Name     string
	Duration time.Duration
}

// Migration is one migration of this build and whether the database has it.
type Migration struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time // zero when not applied
}

// MigrationStatus is what `migrate status` shows.
type MigrationStatus struct {
	Schema
	Migrations []Migration
	// Unversioned is true when the database has no version table yet; Legacy then tells
	// whether it holds tables created before migrations were versioned.
	Unversioned, Legacy bool
}

// migrator is goose's provider for this store, with the PostgreSQL lock it runs under.
type migrator struct {
	p      *goose.Provider
	store  database.Store
	locker lock.SessionLocker // nil on SQLite, whose own locking serializes writers
}

func (s *Store) migrator(ctx context.Context) (*migrator, error) {
	dir, gd := "migrations/sqlite", goose.DialectSQLite3
	if s.dialect == dialectPostgres {
		dir, gd = "migrations/postgres", goose.DialectPostgres
	}
	files, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	m := &migrator{}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithSlog(s.cfg.Logger)}
	if s.dialect == dialectPostgres {
		// A session advisory lock serializes replicas that start at once. Advisory locks are
		// database-wide, so the key is derived from the schema: deployments (or tests) in
		// different schemas of one database do not wait for each other.
		var schema sql.NullString
		if err := s.sqlDB.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return nil, fmt.Errorf("read the current schema: %w", err)
		}
		key := int64(crc32.ChecksumIEEE([]byte("portfolio-graph migrations " + schema.String)))
		m.locker, err = lock.NewPostgresSessionLocker(lock.WithLockID(key), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(m.locker))
	}
	if m.store, err = database.NewStore(gd, versionTable); err != nil {
		return nil, err
	}
	if m.p, err = goose.NewProvider(gd, s.sqlDB, files, opts...); err != nil {
		return nil, err
	}
	return m, nil
}

// Migrate brings the schema to the latest version of this build: it records a database that
// AutoMigrate created before migrations were versioned at version 1, then applies every
// pending migration, each in its own transaction. On PostgreSQL both steps hold an advisory
// lock, so that of several replicas starting at once one migrates and the others wait. A
// database newer than this build is left as it is (Schema.Newer).
func (s *Store) Migrate(ctx context.Context) (Schema, error) {
	m, err := s.migrator(ctx)
	if err != nil {
		return Schema{}, fmt.Errorf("migrate: %w", err)
	}
	var out Schema
	if out.Baselined, err = s.baseline(ctx, m); err != nil {
		return Schema{}, fmt.Errorf("migrate: %w", err)
	}
	results, err := m.p.Up(ctx)
	if err != nil {
		return Schema{}, fmt.Errorf("migrate: %w", err)
	}
	for _, r := range results {
		out.Applied = append(out.Applied, MigrationRun{Version: r.Source.Version, Name: path.Base(r.Source.Path), Duration: r.Duration})
	}
	if out.Version, out.Latest, err = m.p.GetVersions(ctx); err != nil {
		return Schema{}, fmt.Errorf("migrate: %w", err)
	}
	return out, nil
}

// MigrationStatus reports the schema's version and each migration of this build, changing
// nothing: a database without a version table is reported as such, not given one.
func (s *Store) MigrationStatus(ctx context.Context) (*MigrationStatus, error) {
	m, err := s.migrator(ctx)
	if err != nil {
		return nil, err
	}
	out := &MigrationStatus{}
	for _, src := range m.p.ListSources() {
		out.Migrations = append(out.Migrations, Migration{Version: src.Version, Name: path.Base(src.Path)})
		out.Latest = max(out.Latest, src.Version)
	}
	tables, err := s.tableNames(ctx, s.sqlDB)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(tables, versionTable) {
		out.Unversioned = true
		out.Legacy = slices.Contains(tables, "customers")
		return out, nil
	}
	states, err := m.p.Status(ctx)
	if err != nil {
		return nil, err
	}
	for i, st := range states {
		out.Migrations[i].Applied = st.State == goose.StateApplied
		out.Migrations[i].AppliedAt = st.AppliedAt
	}
	if out.Version, _, err = m.p.GetVersions(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// baselineSchema is what migration 1 creates: the tables, columns and indexes that GORM
// AutoMigrate made before migrations were versioned. A database that has them but no record
// of version 1 is recorded at version 1 instead of running it.
var baselineSchema = map[string][]string{
	"customers": {"source_customer_id", "source_parent_customer_id", "organization_id", "postal_code", "country",
		"customer_creation_date", "enrollment_start_date", "enrollment_end_date", "enrollment_opt_in_status",
		"alert_opt_in_status", "targeting_indicator", "redemption_eligibility", "created_at", "updated_at"},
	"accounts": {"source_account_id", "source_customer_ids", "primary_source_customer_id", "status", "type",
		"source_portfolio_id", "account_open_date", "account_close_date", "created_at", "updated_at"},
	"account_holders": {"source_account_id", "source_customer_id", "position"},
	"cards": {"source_account_id", "source_customer_id", "last4", "iin", "card_type", "status",
		"network_identifier", "open_date", "close_date", "created_at", "updated_at"},
}

var baselineIndexes = []string{"idx_customers_parent", "idx_customers_updated", "idx_customers_enrollment",
	"idx_customers_creation", "idx_customers_org", "idx_account_holders_customer", "idx_cards_last4_iin", "idx_cards_customer"}

// baseline records version 1 as applied when the database holds the tables AutoMigrate
// created but no record of version 1. It checks that every table, column and index of
// version 1 is there first, and refuses a database that lacks any. It runs in one
// transaction (IMMEDIATE on SQLite) and, on PostgreSQL, under the migration lock.
func (s *Store) baseline(ctx context.Context, m *migrator) (done bool, err error) {
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if m.locker != nil {
		if err := m.locker.SessionLock(ctx, conn); err != nil {
			return false, fmt.Errorf("take the migration lock: %w", err)
		}
		defer func() {
			if uerr := m.locker.SessionUnlock(context.WithoutCancel(ctx), conn); uerr != nil && err == nil {
				err = fmt.Errorf("release the migration lock: %w", uerr)
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	tables, err := s.tableNames(ctx, tx)
	if err != nil {
		return false, err
	}
	if !slices.Contains(tables, "customers") {
		return false, nil // an empty database: migration 1 creates everything
	}
	versioned := slices.Contains(tables, versionTable)
	if versioned {
		if _, err := m.store.GetMigration(ctx, tx, 1); err == nil {
			return false, nil // recorded: goose takes it from here
		} else if !errors.Is(err, database.ErrVersionNotFound) {
			return false, err
		}
	}
	if err := s.checkBaseline(ctx, tx); err != nil {
		return false, err
	}
	if !versioned {
		if err := m.store.CreateVersionTable(ctx, tx); err != nil {
			return false, err
		}
		if err := m.store.Insert(ctx, tx, database.InsertRequest{Version: 0}); err != nil {
			return false, err
		}
	}
	if err := m.store.Insert(ctx, tx, database.InsertRequest{Version: 1}); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, err
	}
	s.cfg.Logger.Info("schema: recorded the tables created before versioned migrations as version 1")
	return true, nil
}

// checkBaseline tells what of version 1's tables, columns and indexes the database lacks.
func (s *Store) checkBaseline(ctx context.Context, q database.DBTxConn) error {
	colsSQL := "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
	idxSQL := "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
	if s.dialect == dialectSQLite {
		colsSQL = "SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table'"
		idxSQL = "SELECT name FROM sqlite_master WHERE type = 'index'"
	}
	have := map[string]bool{}
	pairs, err := queryStrings(ctx, q, colsSQL, 2)
	if err != nil {
		return err
	}
	for _, p := range pairs {
		have[p[0]+"."+p[1]] = true
	}
	idx, err := queryStrings(ctx, q, idxSQL, 1)
	if err != nil {
		return err
	}
	for _, i := range idx {
		have["index "+i[0]] = true
	}
	var missing []string
	for _, t := range []string{"customers", "accounts", "account_holders", "cards"} {
		for _, c := range baselineSchema[t] {
			if !have[t+"."+c] {
				missing = append(missing, t+"."+c)
			}
		}
	}
	for _, i := range baselineIndexes {
		if !have["index "+i] {
			missing = append(missing, "index "+i)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the database has tables but no record of migration 1, and its schema is not the one migration 1 creates: it lacks %s", strings.Join(missing, ", "))
	}
	return nil
}

// tableNames lists the tables of the current schema (PostgreSQL) or file (SQLite).
func (s *Store) tableNames(ctx context.Context, q database.DBTxConn) ([]string, error) {
	query := "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
	if s.dialect == dialectSQLite {
		query = "SELECT name FROM sqlite_master WHERE type = 'table'"
	}
	rows, err := queryStrings(ctx, q, query, 1)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[0]
	}
	return out, nil
}

func queryStrings(ctx context.Context, q database.DBTxConn, query string, cols int) ([][]string, error) {
	rows, err := q.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		row := make([]string, cols)
		ptrs := make([]any, cols)
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
