package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/portfolio-graph/portfolio-graph/db"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// freshURL returns the address of a new, empty database of kind, removed when the test ends.
func freshURL(t *testing.T, kind string) string {
	t.Helper()
	if kind == "postgres" {
		return pgSchemaURL(t, os.Getenv("TEST_DATABASE_URL"))
	}
	return filepath.Join(t.TempDir(), "test.db")
}

// rawDB opens the database at url directly, around the store, to prepare or inspect it.
func rawDB(t *testing.T, kind, url string) *gorm.DB {
	t.Helper()
	dial := sqlite.Open(url)
	if kind == "postgres" {
		dial = postgres.Open(url)
	}
	gdb, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB := must(gdb.DB())
	t.Cleanup(func() { sqlDB.Close() })
	return gdb
}

// autoMigrated is a database whose schema GORM AutoMigrate made from the models, as Open did
// before migrations were versioned.
func autoMigrated(t *testing.T, kind string) *gorm.DB {
	t.Helper()
	gdb := rawDB(t, kind, freshURL(t, kind))
	if err := gdb.AutoMigrate(&models.Customer{}, &models.Account{}, &models.AccountHolder{}, &models.Card{}); err != nil {
		t.Fatal(err)
	}
	return gdb
}

// preMigrationURL is a database that the previous release created and filled with the
// reference example (testdata/pre-migrations, dumped from it), without a version table.
func preMigrationURL(t *testing.T, kind string) string {
	t.Helper()
	url := freshURL(t, kind)
	script := string(readFile(t, "testdata/pre-migrations/"+kind+".sql"))
	if err := rawDB(t, kind, url).Exec(script).Error; err != nil {
		t.Fatalf("load the pre-migration dump: %v", err)
	}
	return url
}

// schemaOf describes the tables, columns, keys and indexes of the data tables (not goose's
// version table), in a form that two databases of one kind can be compared in.
func schemaOf(t *testing.T, kind string, gdb *gorm.DB) []string {
	t.Helper()
	var out []string
	if kind == "sqlite" {
		var cols []struct {
			Tbl, Name, Type string
			Notnull, PK     int
		}
		must(0, gdb.Raw(`SELECT m.name AS tbl, c.name, c.type, c."notnull", c.pk FROM sqlite_master m, pragma_table_info(m.name) c
			WHERE m.type = 'table' AND m.name NOT LIKE 'goose%' AND m.name NOT LIKE 'sqlite_%'`).Scan(&cols).Error)
		for _, c := range cols {
			out = append(out, fmt.Sprintf("column %s.%s %s notnull=%d pk=%d", c.Tbl, c.Name, c.Type, c.Notnull, c.PK))
		}
		var idx []struct{ Name, Tbl, Cols string }
		must(0, gdb.Raw(`SELECT m.name, m.tbl_name AS tbl, (SELECT group_concat(name) FROM (SELECT name FROM pragma_index_info(m.name) ORDER BY seqno)) AS cols
			FROM sqlite_master m WHERE m.type = 'index' AND m.name NOT LIKE 'sqlite_%'`).Scan(&idx).Error)
		for _, i := range idx {
			out = append(out, "index "+i.Name+" ON "+i.Tbl+"("+i.Cols+")")
		}
	} else {
		var cols []struct{ TableName, ColumnName, DataType, IsNullable string }
		must(0, gdb.Raw(`SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name <> 'goose_db_version'`).Scan(&cols).Error)
		for _, c := range cols {
			out = append(out, fmt.Sprintf("column %s.%s %s nullable=%s", c.TableName, c.ColumnName, c.DataType, c.IsNullable))
		}
		var idx []struct{ Indexname, Indexdef string }
		must(0, gdb.Raw(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename <> 'goose_db_version'`).Scan(&idx).Error)
		schemaName := regexp.MustCompile(` ON \S+\.`)
		for _, i := range idx {
			out = append(out, "index "+i.Indexname+": "+schemaName.ReplaceAllString(i.Indexdef, " ON "))
		}
	}
	slices.Sort(out)
	return out
}

// versionRows counts the rows of goose's version table per version.
func versionRows(t *testing.T, gdb *gorm.DB) map[int64]int {
	t.Helper()
	var rows []struct{ VersionID, N int64 }
	must(0, gdb.Raw("SELECT version_id, count(*) AS n FROM goose_db_version GROUP BY version_id").Scan(&rows).Error)
	out := map[int64]int{}
	for _, r := range rows {
		out[r.VersionID] = int(r.N)
	}
	return out
}

func wantVersions(latest int64) map[int64]int {
	out := map[int64]int{}
	for v := int64(0); v <= latest; v++ {
		out[v] = 1
	}
	return out
}

// An empty database ends at the latest version, every migration applied once, with the schema
// that GORM AutoMigrate makes from the models: the migrations and the models' tags agree.
func TestMigrateEmptyDatabase(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		s := e.store.Schema()
		if s.Latest < 1 || s.Version != s.Latest || s.Baselined || s.Newer() {
			t.Fatalf("schema: got %+v, want the latest version", s)
		}
		if len(s.Applied) != int(s.Latest) || s.Applied[0].Version != 1 || s.Applied[0].Name != "00001_baseline.sql" {
			t.Errorf("applied: got %+v, want every migration from 00001_baseline.sql on", s.Applied)
		}
		if want := fmt.Sprintf("msg=schema version=%d", s.Latest); !strings.Contains(e.logs.String(), want) {
			t.Errorf("start-up log lacks %q:\n%s", want, e.logs)
		}
		raw := rawDB(t, e.kind, e.cfg.databaseURL)
		if got, want := versionRows(t, raw), wantVersions(s.Latest); !equalMaps(got, want) {
			t.Errorf("version table: got %v, want %v", got, want)
		}
		// The models' tables are as AutoMigrate makes them; customer_counts (00002, kept by
		// triggers), write_probe (00003, written by /readyz) and, on PostgreSQL, write_locks
		// (00004, locked by writers) are the migrations' own.
		got, want := schemaOf(t, e.kind, raw), schemaOf(t, e.kind, autoMigrated(t, e.kind))
		own := func(table string) []string {
			lines := slices.DeleteFunc(slices.Clone(got), func(l string) bool { return !strings.Contains(l, table) })
			got = slices.DeleteFunc(got, func(l string) bool { return strings.Contains(l, table) })
			return lines
		}
		if counts := own("customer_counts"); len(counts) < 3 {
			t.Errorf("the migrated schema lacks customer_counts: %v", counts)
		}
		if probe := own("write_probe"); len(probe) < 2 {
			t.Errorf("the migrated schema lacks write_probe: %v", probe)
		}
		locks, wantLocks := own("write_locks"), []string{"column write_locks.k bigint nullable=NO",
			"index write_locks_pkey: CREATE UNIQUE INDEX write_locks_pkey ON write_locks USING btree (k)"}
		if e.kind == "sqlite" {
			wantLocks = nil
		} else if p := ""; raw.Raw("SELECT relpersistence FROM pg_class WHERE oid = 'write_locks'::regclass").Scan(&p).Error != nil || p != "u" {
			t.Errorf("write_locks: persistence %q, want unlogged (u)", p)
		}
		if !slices.Equal(locks, wantLocks) {
			t.Errorf("write_locks: got %v, want %v", locks, wantLocks)
		}
		if len(got) < 12 || !slices.Equal(got, want) {
			t.Errorf("migrated schema differs from AutoMigrate's:\ngot:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// Opening again applies nothing.
		again := openStore(t, e.cfg.databaseURL, io.Discard)
		if s := again.Schema(); len(s.Applied) != 0 || s.Baselined || s.Version != s.Latest {
			t.Errorf("second open: got %+v, want nothing applied", s)
		}
	})
}

func openStore(t *testing.T, url string, logs io.Writer) *db.Store {
	t.Helper()
	store, err := db.Open(context.Background(), db.Config{URL: url, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

func equalMaps(a, b map[int64]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// everything reads every field of the reference example's customer, its accounts and cards.
const everything = `{ customer(sourceCustomerId: "afa2r21-25f9-4501-b9db-e78afa73c0e3") {
	id sourceCustomerId sourceParentCustomerId organizationId postalCode country customerCreationDate
	enrollmentStartDate enrollmentEndDate enrollmentOptInStatus alertOptInStatus targetingIndicator
	redemptionEligibility
	accounts { id sourceAccountId sourceCustomerIds primarySourceCustomerId status type sourcePortfolioId
		accountOpenDate accountCloseDate holders { sourceCustomerId }
		cards { id sourceAccountId sourceCustomerId last4 iin cardType status networkIdentifier network openDate closeDate } } }
	cards(filter: {last4: "2345", iin: "123456"}) { nodes { sourceCustomerId customer { sourceCustomerId } } } }`

// A database created by the previous release (AutoMigrate, no version table) is recorded at
// version 1 without running it, migrated to the latest version, and serves its data as the
// same data ingested into a new database.
func TestMigrateUpgradesPreMigrationDatabase(t *testing.T) {
	forEachStore(t, func(t *testing.T, fresh *env) {
		url := preMigrationURL(t, fresh.kind)
		e := newEnv(t, fresh.kind, func(c *config) { c.databaseURL = url })
		s := e.store.Schema()
		if !s.Baselined || s.Version != s.Latest || slices.ContainsFunc(s.Applied, func(m db.MigrationRun) bool { return m.Version == 1 }) {
			t.Fatalf("schema: got %+v, want recorded at 1 and migrated to the latest", s)
		}
		if got, want := versionRows(t, rawDB(t, e.kind, url)), wantVersions(s.Latest); !equalMaps(got, want) {
			t.Errorf("version table: got %v, want %v", got, want)
		}
		var updated struct {
			Customer struct{ UpdatedAt string }
		}
		e.query(t, `{ customer(sourceCustomerId: "afa2r21-25f9-4501-b9db-e78afa73c0e3") { updatedAt } }`, nil, &updated)
		if want := map[string]string{"sqlite": "2026-12-01T08:59:53.069653Z", "postgres": "2026-12-01T09:00:01.897716Z"}[e.kind]; updated.Customer.UpdatedAt != want {
			t.Errorf("updatedAt of the stored customer: got %q, want %q", updated.Customer.UpdatedAt, want)
		}
		r := e.post(t, everything, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("read the upgraded database: %+v", r.Errors)
		}
		var vars map[string]any
		must(0, json.Unmarshal(readFile(t, "testdata/reference-example.json"), &vars))
		fresh.query(t, `mutation($customers: [CustomerInput!]!) { ingestCustomers(customers: $customers) { userErrors { path } } }`, vars, nil)
		want := fresh.post(t, everything, nil)
		if !bytes.Equal(r.Data, want.Data) || !strings.Contains(string(r.Data), `"last4":"2345"`) {
			t.Errorf("the upgraded database reads\n%s\nthe same data ingested anew reads\n%s", r.Data, want.Data)
		}
		// A replay of the reference example changes nothing: the stored rows are the ones the
		// ingest path would write.
		var replay struct {
			IngestCustomers struct {
				Summary struct{ Customers, Accounts, Cards counts }
			}
		}
		e.query(t, `mutation($customers: [CustomerInput!]!) { ingestCustomers(customers: $customers) {
			summary { customers { created updated unchanged } accounts { created updated unchanged } cards { created updated unchanged } } } }`, vars, &replay)
		if s := replay.IngestCustomers.Summary; s.Customers != (counts{0, 0, 1}) || s.Accounts != (counts{0, 0, 1}) || s.Cards != (counts{0, 0, 1}) {
			t.Errorf("replay on the upgraded database: got %+v, want everything unchanged", s)
		}
	})
}

// A database with the tables but not the whole of version 1 is not recorded as version 1:
// opening it fails and names what is missing.
func TestMigrateRefusesIncompletePreMigrationSchema(t *testing.T) {
	forEachStore(t, func(t *testing.T, fresh *env) {
		url := preMigrationURL(t, fresh.kind)
		raw := rawDB(t, fresh.kind, url)
		must(0, raw.Exec("DROP INDEX idx_cards_customer").Error)
		must(0, raw.Exec("ALTER TABLE accounts DROP COLUMN source_portfolio_id").Error)
		_, err := db.Open(context.Background(), db.Config{URL: url, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err == nil || !strings.Contains(err.Error(), "accounts.source_portfolio_id") || !strings.Contains(err.Error(), "index idx_cards_customer") {
			t.Fatalf("open: got %v, want a refusal naming the missing column and index", err)
		}
		var n int64
		raw.Raw("SELECT count(*) FROM customers").Scan(&n)
		if n != 1 || slices.Contains(must(raw.Migrator().GetTables()), "goose_db_version") {
			t.Errorf("a refused database was changed: %d customers, tables %v", n, must(raw.Migrator().GetTables()))
		}
	})
}

// Several replicas starting at once against one PostgreSQL schema all come up, and each
// migration runs once: on an empty schema and on one from before versioned migrations.
func TestMigrateConcurrentStartPostgres(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_DATABASE_URL is not set: under CI=true the PostgreSQL tests must run")
		}
		t.Skip("TEST_DATABASE_URL not set")
	}
	for _, start := range []string{"empty", "pre-migration"} {
		t.Run(start, func(t *testing.T) {
			url := freshURL(t, "postgres")
			if start == "pre-migration" {
				url = preMigrationURL(t, "postgres")
			}
			const replicas = 3
			var (
				wg      sync.WaitGroup
				schemas [replicas]db.Schema
				errs    [replicas]error
			)
			for i := range replicas {
				wg.Go(func() {
					store, err := db.Open(context.Background(), db.Config{URL: url, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
					if err != nil {
						errs[i] = err
						return
					}
					schemas[i] = store.Schema()
					store.Close()
				})
			}
			wg.Wait()
			applied, baselined := 0, 0
			for i := range replicas {
				if errs[i] != nil {
					t.Fatalf("replica %d: %v", i, errs[i])
				}
				if schemas[i].Version != schemas[i].Latest {
					t.Errorf("replica %d: at version %d, want %d", i, schemas[i].Version, schemas[i].Latest)
				}
				applied += len(schemas[i].Applied)
				if schemas[i].Baselined {
					baselined++
				}
			}
			latest := int(schemas[0].Latest)
			wantApplied, wantBaselined := latest, 0
			if start == "pre-migration" {
				wantApplied, wantBaselined = latest-1, 1
			}
			if applied != wantApplied || baselined != wantBaselined {
				t.Errorf("migrations applied %d times, baseline recorded %d times; want %d and %d", applied, baselined, wantApplied, wantBaselined)
			}
			if got, want := versionRows(t, rawDB(t, "postgres", url)), wantVersions(int64(latest)); !equalMaps(got, want) {
				t.Errorf("version table: got %v, want %v", got, want)
			}
		})
	}
}

// A database migrated further than this build knows is served as it is, with a warning (a
// rolled-back release keeps working on the newer schema); migrate status says so.
func TestMigrateNewerDatabase(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		must(0, rawDB(t, e.kind, e.cfg.databaseURL).Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, true)").Error)
		var logs bytes.Buffer
		s := openStore(t, e.cfg.databaseURL, &logs).Schema()
		if !s.Newer() || s.Version != 999 || len(s.Applied) != 0 {
			t.Errorf("schema: got %+v, want version 999, newer than this build, nothing applied", s)
		}
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "version=999") {
			t.Errorf("no warning about the newer database:\n%s", logs.String())
		}
		out, code := runCommand(t, "migrate", "status", "-database-url", e.cfg.databaseURL)
		if code != 0 || !strings.Contains(out, "schema version 999") || !strings.Contains(out, "newer than this build") {
			t.Errorf("migrate status: exit %d\n%s", code, out)
		}
	})
}

func runCommand(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return stdout.String() + stderr.String(), code
}

// `migrate status` shows the version and each migration without changing anything; `migrate
// up` applies what is pending, on an empty database and on one from before versioned
// migrations, and then has nothing to do.
func TestMigrateCommand(t *testing.T) {
	latest := len(must(filepath.Glob("db/migrations/sqlite/*.sql")))
	at := fmt.Sprintf("schema version %d (this build knows up to %d)", latest, latest)
	forEachStore(t, func(t *testing.T, fresh *env) {
		empty, legacy := freshURL(t, fresh.kind), preMigrationURL(t, fresh.kind)
		steps := []struct {
			url  string
			args []string
			want []string
			code int
		}{
			{empty, []string{"migrate", "-database-url", empty}, []string{"no version table: an empty database", "pending", "00001_baseline.sql"}, 0},
			{empty, []string{"migrate", "status", "-database-url", empty}, []string{"no version table: an empty database"}, 0},
			{empty, []string{"migrate", "up", "-database-url", empty}, []string{"applied 1 00001_baseline.sql", at}, 0},
			{empty, []string{"migrate", "-database-url", empty, "up"}, []string{"nothing to apply", at}, 0},
			{empty, []string{"migrate", "status", "-database-url", empty}, []string{at, "applied ", "00001_baseline.sql"}, 0},
			{legacy, []string{"migrate", "status", "-database-url", legacy}, []string{"predate versioned migrations", "existing", "00001_baseline.sql"}, 0},
			{legacy, []string{"migrate", "up", "-database-url", legacy}, []string{"recorded the existing tables", "as version 1", at}, 0},
			{legacy, []string{"migrate", "status", "-database-url", legacy}, []string{at, "applied "}, 0},
		}
		if fresh.kind == "sqlite" {
			// An embedded store that does not exist yet is not created by status.
			for i := range 2 {
				steps[i].want, steps[i].code = []string{"no embedded store at " + empty}, 1
			}
		}
		for _, s := range steps {
			out, code := runCommand(t, s.args...)
			if code != s.code {
				t.Fatalf("%v: exit %d\n%s", s.args, code, out)
			}
			for _, w := range s.want {
				if !strings.Contains(out, w) {
					t.Errorf("%v: output lacks %q:\n%s", s.args, w, out)
				}
			}
		}
		// status changed nothing: the pre-migration database got no version table from it.
		fresh2 := preMigrationURL(t, fresh.kind)
		runCommand(t, "migrate", "status", "-database-url", fresh2)
		if slices.Contains(must(rawDB(t, fresh.kind, fresh2).Migrator().GetTables()), "goose_db_version") {
			t.Error("migrate status created the version table")
		}
		if out, code := runCommand(t, "migrate", "down", "-database-url", empty); code != 2 || !strings.Contains(out, "usage: portfolio-graph migrate [status|up]") {
			t.Errorf("migrate down: exit %d\n%s", code, out)
		}
	})
	out, code := runCommand(t, "-h")
	if code != 0 || !strings.Contains(out, "migrate [status|up]") {
		t.Errorf("-h does not mention migrate: exit %d\n%s", code, out)
	}
}

// `migrate status` changes nothing, not even by creating the file a mistyped path names.
func TestMigrateStatusCreatesNoStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "x.db")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"migrate", "status", "-database-url", path}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "no embedded store at "+path) {
		t.Errorf("exit %d: %s%s", code, stdout.String(), stderr.String())
	}
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("migrate status created %s (%v)", filepath.Dir(path), err)
	}
}
