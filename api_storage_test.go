package main

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Storage faults of the embedded store, on a real filesystem that the tests fill or make
// read-only: a tmpfs of their own, which takes root to mount.

// tmpfs mounts a tmpfs of size (such as "8m") on a new directory for one test and unmounts it
// when the test ends. Without root the test is skipped, except under CI=true (CI runs as root),
// where it fails.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("mounting a tmpfs takes root: under CI=true the storage fault tests must run")
		}
		t.Skip("mounting a tmpfs takes root")
	}
	dir := t.TempDir()
	mount(t, "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir)
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

func mount(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Fatalf("mount %s: %v %s", strings.Join(args, " "), err, out)
	}
}

// fill writes a file into dir until its filesystem is full, and returns the file's path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

// wantUnavailable checks an answer that could serve nothing for a storage fault: HTTP 503 with
// Retry-After, and one SERVICE_UNAVAILABLE error whose message is msg.
func wantUnavailable(t *testing.T, what string, r gqlResponse, msg string) {
	t.Helper()
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" ||
		len(r.Errors) != 1 || r.Errors[0].code() != "SERVICE_UNAVAILABLE" || r.Errors[0].Message != msg {
		t.Errorf("%s: got %d (Retry-After %q) %s %+v, want 503 SERVICE_UNAVAILABLE %q", what, r.status, r.header.Get("Retry-After"), r.Data, r.Errors, msg)
	}
}

// wantReady checks /readyz's status and text.
func (e *env) wantReady(t *testing.T, status int, text string) {
	t.Helper()
	if code, body := get(t, e.url+"/readyz"); code != status || body != text+"\n" {
		t.Errorf("readyz: got %d %q, want %d %q", code, body, status, text)
	}
}

// sqliteOn is a configuration change: the embedded store's file in dir.
func sqliteOn(dir string) func(*config) {
	return func(c *config) { c.databaseURL = filepath.Join(dir, "portfolio.db") }
}

// On a full disk, writes answer 503 SERVICE_UNAVAILABLE naming the fault while reads still
// serve, and /readyz says why; once space is freed, the next write succeeds and /readyz is
// ready again, without a restart. The cause is logged once at WARN, then as one count of its
// repeats, instead of a WARN line per request.
func TestSQLiteDiskFull(t *testing.T) {
	dir := tmpfs(t, "8m")
	e := newEnv(t, "sqlite", sqliteOn(dir))
	e.mustIngest(t, customer("C1", "O1"))
	e.wantReady(t, http.StatusOK, "ok")

	filler := fill(t, dir)
	const burst = 20
	for range burst {
		r := e.post(t, ingestQuery, obj{"customers": many(100, "O2")})
		wantUnavailable(t, "an ingest on a full disk", r, "the database cannot write: disk full")
	}
	if n := e.customerCount(t); n != 1 {
		t.Errorf("read on a full disk: %d customers, want 1", n)
	}
	e.wantReady(t, http.StatusServiceUnavailable, "the database cannot write: disk full")

	logs := e.logs.String()
	if n := countLines(logs, "level=WARN", `msg="database unavailable"`, "cause=SQLITE_FULL", `reason="the database cannot write: disk full"`); n != 1 {
		t.Errorf("%d WARN lines for the cause, want 1:\n%s", n, logs)
	}
	if n := countLines(logs, "level=WARN msg=request"); n != 0 {
		t.Errorf("%d access log lines at WARN, want none:\n%s", n, logs)
	}
	if n := countLines(logs, "level=INFO msg=request", "status=503 codes=SERVICE_UNAVAILABLE"); n != burst {
		t.Errorf("%d access log lines at INFO for the 503s, want %d", n, burst)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	e.mustIngest(t, customer("C2", "O1"))
	e.wantReady(t, http.StatusOK, "ok")
	if n := e.customerCount(t); n != 2 {
		t.Errorf("after the disk was freed: %d customers, want 2", n)
	}
	// Closing the store logs the repeats counted since the cause's line (its interval is 10s).
	e.store.Close()
	if n := countLines(e.logs.String(), "level=WARN", `msg="database unavailable, repeated"`, "cause=SQLITE_FULL", "repeats="); n != 1 {
		t.Errorf("%d count lines, want 1:\n%s", n, e.logs)
	}
}

// A database that becomes read-only answers writes with 503 SERVICE_UNAVAILABLE, and writes
// resume by themselves, without a restart, once it is writable again: the pool keeps no
// connection that opened the file read-only.
//
// First the file alone turns read-only, as after a change of its permissions (which root
// ignores): a read-only bind mount of the file over itself. Connections opened before keep
// writing; those the pool opens from then on are read-only, and reads on them still serve.
// Then the whole filesystem: SQLite cannot even open the file, as it needs to create the -wal
// and -shm files beside it, so reads fail too.
func TestSQLiteReadOnly(t *testing.T) {
	dir := tmpfs(t, "8m")
	path := filepath.Join(dir, "portfolio.db")
	e := newEnv(t, "sqlite", sqliteOn(dir))
	e.mustIngest(t, customer("C1", "O1"))
	// The pool opens its connections anew, as it does when a cancelled request interrupted
	// one: the test closes those it keeps.
	reconnect := func() {
		pool := e.store.Pool()
		n := pool.Stats().MaxOpenConnections
		pool.SetMaxIdleConns(0)
		pool.SetMaxIdleConns(n)
	}

	mount(t, "--bind", path, path)
	t.Cleanup(func() { _ = exec.Command("umount", "-l", path).Run() })
	mount(t, "-o", "remount,bind,ro", path)
	reconnect()
	for range 3 {
		r := e.post(t, ingestQuery, obj{"customers": []any{customer("C2", "O1")}})
		wantUnavailable(t, "an ingest on a read-only file", r, "the database cannot write: read-only")
	}
	e.wantReady(t, http.StatusServiceUnavailable, "the database cannot write: read-only")
	// A read serves, on a connection that opened read-only and wrote nothing: the first write
	// after the episode must not meet it.
	if n := e.customerCount(t); n != 1 {
		t.Errorf("read on a read-only file: %d customers, want 1", n)
	}
	mount(t, "-o", "remount,bind,rw", path)
	e.mustIngest(t, customer("C2", "O1"))
	e.wantReady(t, http.StatusOK, "ok")

	reconnect()
	if out, err := exec.Command("umount", path).CombinedOutput(); err != nil {
		t.Fatalf("umount %s: %v %s (a connection still holds the file)", path, err, out)
	}
	mount(t, "-o", "remount,ro", dir)
	r := e.post(t, `{ customers { totalCount } }`, nil)
	wantUnavailable(t, "a read on a read-only filesystem", r, "the database cannot open its file")
	r = e.post(t, ingestQuery, obj{"customers": []any{customer("C3", "O1")}})
	wantUnavailable(t, "an ingest on a read-only filesystem", r, "the database cannot open its file")
	e.wantReady(t, http.StatusServiceUnavailable, "the database cannot open its file")
	mount(t, "-o", "remount,rw", dir)
	e.mustIngest(t, customer("C3", "O1"))
	e.wantReady(t, http.StatusOK, "ok")
	if n := e.customerCount(t); n != 3 {
		t.Errorf("after the episodes: %d customers, want 3", n)
	}
}
