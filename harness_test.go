package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/portfolio-graph/portfolio-graph/db"
	"github.com/portfolio-graph/portfolio-graph/middleware"
	"github.com/portfolio-graph/portfolio-graph/observe"
)

// env is a real server on a fresh, empty database of one kind.
type env struct {
	kind       string // "sqlite" or "postgres"
	url        string // the server's base URL
	store      *db.Store
	cfg        *config
	statements atomic.Int64
	logs       *bytes.Buffer
	token      string // sent as a bearer token when set
	obs        *observability
	admin      string // the admin handler's base URL, when the config has -admin-listen
}

// forEachStore runs fn against the embedded store and, when TEST_DATABASE_URL is set, against
// PostgreSQL, each in a subtest with a database of its own. Under CI=true PostgreSQL is
// mandatory: a CI run that silently tested only SQLite would prove nothing about production.
func forEachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	forEachStoreWith(t, nil, fn)
}

// forEachStoreWith is forEachStore with a configuration change, such as authentication.
func forEachStoreWith(t *testing.T, tweak func(*config), fn func(t *testing.T, e *env)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, newEnv(t, "sqlite", tweak))
	})
	pgURL := os.Getenv("TEST_DATABASE_URL")
	if pgURL == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_DATABASE_URL is not set: under CI=true the PostgreSQL tests must run")
		}
		t.Run("postgres", func(t *testing.T) { t.Skip("TEST_DATABASE_URL not set") })
		return
	}
	t.Run("postgres", func(t *testing.T) {
		fn(t, newEnv(t, "postgres", tweak))
	})
}

// postgresURL is TEST_DATABASE_URL, for a test that only PostgreSQL can run; without it the
// test is skipped, except under CI=true, where it fails.
func postgresURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TEST_DATABASE_URL is not set: under CI=true the PostgreSQL tests must run")
		}
		t.Skip("TEST_DATABASE_URL not set")
	}
	return base
}

// newEnv opens a fresh database: a temporary SQLite file, or a new schema in the PostgreSQL
// database of TEST_DATABASE_URL, dropped when the test ends.
func newEnv(t testing.TB, kind string, tweak func(*config)) *env {
	t.Helper()
	e := &env{kind: kind, logs: &bytes.Buffer{}}
	cfg, _, err := parseConfig("test", nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.requestTimeout = 30 * time.Second
	switch kind {
	case "sqlite":
		cfg.databaseURL = filepath.Join(t.TempDir(), "test.db")
	case "postgres":
		cfg.databaseURL = pgSchemaURL(t, os.Getenv("TEST_DATABASE_URL"))
	}
	if tweak != nil {
		tweak(cfg)
	}
	e.cfg = cfg
	log, err := newLogger("debug", cfg.logFormat, &lockedWriter{w: e.logs})
	if err != nil {
		t.Fatal(err)
	}
	// Metrics with -admin-listen, traces with OTEL_EXPORTER_OTLP_ENDPOINT, as when serving.
	e.obs, err = newObservability(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.obs.shutdown(log) })
	sc := e.obs.storeConfig(cfg.storeConfig(log))
	sc.OnStatement = func() { e.statements.Add(1) }
	// Tests check every kept statement's SQL against GORM's; benchmarks measure what serves.
	_, benchmark := t.(*testing.B)
	sc.VerifyStatements = !benchmark
	store, err := db.Open(context.Background(), sc)
	if err != nil {
		t.Fatalf("open %s store: %v", kind, err)
	}
	t.Cleanup(func() { store.Close() })
	e.store = store
	e.obs.watchStore(store)
	verifier, err := newVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newDrainingHandler(store, cfg, verifier, log, true, &middleware.Drain{}, e.obs))
	t.Cleanup(srv.Close)
	if e.obs.metrics != nil {
		admin := httptest.NewServer(observe.AdminHandler(e.obs.metrics))
		t.Cleanup(admin.Close)
		e.admin = admin.URL
	}
	e.url = srv.URL
	return e
}

// pgSchemaURL creates a schema of its own for one test and returns base with its search_path.
func pgSchemaURL(t testing.TB, base string) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	sqlDB, _ := admin.DB()
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		sqlDB.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema) // tells this test's sessions in pg_stat_activity
	u.RawQuery = q.Encode()
	return u.String()
}

// lockedWriter lets concurrent requests log into one buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// gqlResponse is a GraphQL response as a client sees it.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
	status int
	header http.Header
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e gqlError) code() string { s, _ := e.Extensions["code"].(string); return s }

// post sends a GraphQL request and decodes the answer, whatever it is.
func (e *env) post(t testing.TB, query string, vars any) gqlResponse {
	t.Helper()
	out, err := e.send(query, vars)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// send is post for any goroutine: it returns a failure instead of stopping the test.
func (e *env) send(query string, vars any) (gqlResponse, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return gqlResponse{}, err
	}
	req, err := http.NewRequest(http.MethodPost, e.url+"/query", bytes.NewReader(body))
	if err != nil {
		return gqlResponse{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return gqlResponse{}, err
	}
	return readResponse(resp)
}

// readResponse decodes a GraphQL answer, whatever its status, and closes its body.
func readResponse(resp *http.Response) (gqlResponse, error) {
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return gqlResponse{}, err
	}
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		return gqlResponse{}, fmt.Errorf("response is not JSON (status %d): %s", resp.StatusCode, raw)
	}
	out.status, out.header = resp.StatusCode, resp.Header
	collectMessages(out.Errors)
	return out, nil
}

// query sends a request that must succeed and decodes its data into out.
func (e *env) query(t testing.TB, query string, vars any, out any) {
	t.Helper()
	r := e.post(t, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v\nquery: %s", r.Errors, query)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatalf("decode data: %v\n%s", err, r.Data)
		}
	}
}

// errorsOf sends a request that must fail and returns its errors.
func (e *env) errorsOf(t *testing.T, query string, vars any) []gqlError {
	t.Helper()
	r := e.post(t, query, vars)
	if len(r.Errors) == 0 {
		t.Fatalf("want errors, got data %s", r.Data)
	}
	return r.Errors
}

// countStatements returns how many SQL statements fn caused.
func (e *env) countStatements(fn func()) int64 {
	before := e.statements.Load()
	fn()
	return e.statements.Load() - before
}

// seenMessages collects every error message the suite received, so that one test can check
// that none leaks SQL or internals.
var seenMessages struct {
	sync.Mutex
	list []string
}

func collectMessages(errs []gqlError) {
	seenMessages.Lock()
	defer seenMessages.Unlock()
	for _, e := range errs {
		seenMessages.list = append(seenMessages.list, e.Message)
	}
}

// leakMarks are what SQL, driver, Go runtime and stack text look like; no error message a
// client receives may contain any of them.
var leakMarks = []string{"SELECT ", "INSERT ", "UPDATE ", "DELETE ", " WHERE ", "SQLSTATE", "pq:", "pgx", "sqlite", "SQL logic",
	"gorm", "database/sql", "sql:", "goroutine ", ".go:", "runtime error", "panic", "nil pointer", "duplicate key", "violates"}

// TestMain runs the suite, then checks every error message it received for leaked internals.
func TestMain(m *testing.M) {
	code := m.Run()
	seenMessages.Lock()
	defer seenMessages.Unlock()
	for _, msg := range seenMessages.list {
		for _, mark := range leakMarks {
			if strings.Contains(msg, mark) {
				fmt.Fprintf(os.Stderr, "FAIL: an error message leaks internals (%q): %s\n", mark, msg)
				code = 1
			}
		}
	}
	if code == 0 && len(seenMessages.list) == 0 && !testing.Short() && flag.Lookup("test.run").Value.String() == "" {
		fmt.Fprintln(os.Stderr, "FAIL: the suite saw no error message at all: the leak check checked nothing")
		code = 1
	}
	os.Exit(code)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func jsonString(v any) string { return string(must(json.Marshal(v))) }

// countLines counts the log lines that contain every one of marks.
func countLines(logs string, marks ...string) int {
	n := 0
	for l := range strings.Lines(logs) {
		all := true
		for _, m := range marks {
			all = all && strings.Contains(l, m)
		}
		if all {
			n++
		}
	}
	return n
}
