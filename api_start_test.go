package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveOn starts serveWith with cfg in the background, draining nothing on stop; it returns
// the server's base URL once it listens (not once it is ready), and the channel serveWith's
// result arrives on.
func serveOn(t *testing.T, cfg *config) (string, <-chan error, *lockedWriter) {
	t.Helper()
	cfg.shutdownDrain = 0
	url, _, done, logs := startServing(t, cfg, nil)
	return url, done, logs
}

// startServing runs serveWith with cfg on a loopback port of its own, its listener wrapped by
// wrap when given. It returns the base URL once the server listens, the cancel that stands for
// SIGTERM, serveWith's result and the server's log; the server is stopped when the test ends.
func startServing(t *testing.T, cfg *config, wrap func(net.Listener) net.Listener) (string, context.CancelFunc, <-chan error, *lockedWriter) {
	t.Helper()
	cfg.listenAddr = "127.0.0.1:0"
	cfg.playground = false
	logs := &lockedWriter{w: &bytes.Buffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	var first sync.Once // the server's own listener comes first, the admin listener after it
	listen := func(network, a string) (net.Listener, error) {
		ln, err := net.Listen(network, a)
		if err == nil {
			first.Do(func() {
				addr <- ln.Addr().String()
				if wrap != nil {
					ln = wrap(ln)
				}
			})
		}
		return ln, err
	}
	done, stopped := make(chan error, 1), make(chan struct{})
	go func() {
		done <- serveWith(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), listen)
		close(stopped)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Error("the server did not stop")
		}
	})
	select {
	case a := <-addr:
		return "http://" + a, cancel, done, logs
	case err := <-done:
		t.Fatalf("serve returned %v before listening", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not listen")
	}
	return "", nil, nil, nil
}

func testConfig(t *testing.T) *config {
	t.Helper()
	cfg, _, err := parseConfig("test", nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A server started while its database cannot be reached listens at once: /healthz 200,
// /readyz 503 with the reason, /query a coded 503. It connects, migrates and serves as soon as
// the database answers, without a restart.
func TestServerStartsBeforeItsDatabase(t *testing.T) {
	base := postgresURL(t)
	proxy := newTCPProxy(t, must(url.Parse(base)).Host)
	proxy.cut() // the database is not there yet
	cfg := testConfig(t)
	u := must(url.Parse(pgSchemaURL(t, base)))
	u.Host = proxy.addr
	cfg.databaseURL = u.String()
	srv, done, logs := serveOn(t, cfg)

	if code, body := get(t, srv+"/healthz"); code != 200 {
		t.Errorf("healthz while the database is down: %d %q", code, body)
	}
	code, body := get(t, srv+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "not ready") || !strings.Contains(body, "database") {
		t.Errorf("readyz while the database is down: %d %q, want 503 with the reason", code, body)
	}
	r := postTo(t, srv, `{ customers { totalCount } }`)
	if r.status != http.StatusServiceUnavailable || len(r.Errors) != 1 || r.Errors[0].code() != "SERVICE_UNAVAILABLE" {
		t.Errorf("query while the database is down: %d %+v, want 503 SERVICE_UNAVAILABLE", r.status, r.Errors)
	} else if strings.Contains(r.Errors[0].Message, proxy.addr) || strings.Contains(r.Errors[0].Message, "refused") {
		t.Errorf("the client sees driver text: %s", r.Errors[0].Message)
	}
	time.Sleep(300 * time.Millisecond) // a few retries
	select {
	case err := <-done:
		t.Fatalf("the server stopped while waiting for its database: %v", err)
	default:
	}

	proxy.restore(t)
	waitReady(t, srv, 5*time.Second)
	if r := postTo(t, srv, `{ customers { totalCount } }`); r.status != 200 || len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"totalCount":0`) {
		t.Errorf("query once the database answers: %d %s %+v", r.status, r.Data, r.Errors)
	}
	if l := logs.String(); !strings.Contains(l, "schema: migration applied") || !strings.Contains(l, "msg=ready") {
		t.Errorf("the log does not show the migrations and readiness:\n%s", l)
	}
}

// -database-wait bounds the wait: the server exits with an error naming it.
func TestDatabaseWaitBoundsTheStart(t *testing.T) {
	base := postgresURL(t)
	proxy := newTCPProxy(t, must(url.Parse(base)).Host)
	proxy.cut()
	cfg := testConfig(t)
	u := must(url.Parse(base))
	u.Host = proxy.addr
	cfg.databaseURL = u.String()
	cfg.databaseWait = 300 * time.Millisecond
	_, done, _ := serveOn(t, cfg)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "-database-wait") {
			t.Errorf("serve returned %v, want an error naming -database-wait", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server kept waiting past -database-wait")
	}
}

// A DATABASE_URL that names neither PostgreSQL nor an SQLite file is refused before anything
// is created: a typo never starts a new, empty store.
func TestMistypedDatabaseURLIsRefused(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, bad := range []string{"postgress://postgres@127.0.0.1:5432/test", "mysql://root@127.0.0.1/test", "127.0.0.1:5432", "portfolio", "file:", "file:x.db?mode=ro"} {
		var stderr bytes.Buffer
		code := run(context.Background(), []string{"-database-url", bad, "-listen", "127.0.0.1:0"}, io.Discard, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), "neither a PostgreSQL URL") && !strings.Contains(stderr.String(), "file:PATH") {
			t.Errorf("%q: exit %d, stderr %q; want a non-zero exit saying what is accepted", bad, code, stderr.String())
		}
	}
	for _, cmd := range [][]string{{"ingest", "-database-url", "postgress://x/y", "x.json"}, {"migrate", "-database-url", "127.0.0.1:5432", "status"}} {
		var stderr bytes.Buffer
		if code := run(context.Background(), cmd, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), "neither a PostgreSQL URL") {
			t.Errorf("%v: exit %d, stderr %q", cmd, code, stderr.String())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) > 0 {
		t.Errorf("files were created for a refused DATABASE_URL: %v", entries)
	}
	// What is accepted: an SQLite path ending in .db, and file:PATH.
	for _, good := range []string{filepath.Join(dir, "a.db"), "file:" + filepath.Join(dir, "b.sqlite")} {
		cfg := testConfig(t)
		cfg.databaseURL = good
		srv, _, _ := serveOn(t, cfg)
		waitReady(t, srv, 10*time.Second)
	}
}

// A port in use is reported before the store is opened, with the flag that changes it.
func TestPortInUseIsReportedFirst(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	cfg := testConfig(t)
	cfg.listenAddr = ln.Addr().String()
	cfg.databaseURL = filepath.Join(dir, "port.db")
	err = serveWith(context.Background(), cfg, slog.New(slog.DiscardHandler), net.Listen)
	if err == nil || !strings.Contains(err.Error(), "-listen") {
		t.Errorf("serve on a port in use: %v, want an error that points at -listen", err)
	}
	if _, statErr := os.Stat(cfg.databaseURL); statErr == nil {
		t.Error("the store was opened before the port was found in use")
	}
}

// postTo sends a query to the server at base and decodes the answer, whatever it is.
func postTo(t *testing.T, base, query string) gqlResponse {
	t.Helper()
	r, err := (&env{url: base}).send(query, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
