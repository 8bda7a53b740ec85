package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// No log line, at any level, holds a value bound to SQL or taken from the input: statements
// are logged by their text with placeholders, cut short, and failed ones with the driver's
// error minus the values it quotes.
func TestLogsHoldNoCustomerData(t *testing.T) {
	// Every statement counts as slow, so that each one is logged.
	forEachStoreWith(t, func(c *config) { c.slowSQL = time.Nanosecond }, func(t *testing.T, e *env) {
		const id, postal = "SECRETID4711", "ZQ98765"
		big := many(200, "O1") // a multi-row upsert whose text would be long
		e.mustIngest(t, append(big, with(customer(id, "O1"), "postalCode", postal))...)
		e.query(t, `query($p: String) { customers(filter: {postalCode: $p}) { totalCount nodes { sourceCustomerId } } }`, obj{"p": postal}, nil)
		e.query(t, `{ customer(sourceCustomerId: "`+id+`") { stats: accounts { sourceAccountId } } }`, nil, nil)
		// A closed store fails every statement: each is logged at debug as "sql failed".
		e.store.Close()
		e.post(t, `query($p: String) { customers(filter: {postalCode: $p}) { totalCount } }`, obj{"p": postal})
		e.post(t, `{ customer(sourceCustomerId: "`+id+`") { country } }`, nil)

		logs := e.logs.String()
		if !strings.Contains(logs, "msg=\"slow sql\"") || !strings.Contains(logs, "msg=\"sql failed\"") {
			t.Fatalf("the statements were not logged, so this test checks nothing:\n%.2000s", logs)
		}
		for _, v := range []string{id, postal, "C0001", "78753"} {
			if strings.Contains(logs, v) {
				i := strings.Index(logs, v)
				t.Errorf("the log holds %q: …%s…", v, logs[max(0, i-300):min(len(logs), i+100)])
			}
		}
		for line := range strings.Lines(logs) {
			if len(line) > 1000 {
				t.Errorf("a log line of %d bytes: %.300s…", len(line), line)
			}
		}
	})
}

// -h never shows a secret taken from the environment: neither the JWT secret nor the
// password of the database URL, in the server's flags or the token command's.
func TestHelpHidesSecrets(t *testing.T) {
	const secret, password = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-0123456789", "pa55word"
	t.Setenv("AUTH_JWT_SECRET", secret)
	t.Setenv("DATABASE_URL", "postgres://app:"+password+"@db.internal:5432/portfolio?sslmode=require&password="+password)
	for _, args := range [][]string{{"-h"}, {"token", "-h"}, {"ingest", "-h"}} {
		var stderr bytes.Buffer
		run(context.Background(), args, io.Discard, &stderr)
		out := stderr.String()
		if args[0] != "ingest" && !strings.Contains(out, "-auth-jwt-secret") {
			t.Fatalf("%v: no -auth-jwt-secret in\n%s", args, out)
		}
		if strings.Contains(out, secret) || strings.Contains(out, password) {
			t.Errorf("%v shows a secret:\n%s", args, out)
		}
		if args[0] != "token" && !strings.Contains(out, "postgres://app:xxxxx@db.internal:5432/portfolio") {
			t.Errorf("%v: the database URL is not shown masked:\n%s", args, out)
		}
	}
}

// The access log names each response's error codes; an internal error is logged at ERROR, an
// answer of an unavailable database at INFO, its cause once at WARN by the store.
func TestAccessLogCodes(t *testing.T) {
	e := newEnv(t, "sqlite", withAuth)
	e.token = token(t, "reader", "O1")
	e.post(t, `{ customers(first: 100000) { totalCount } }`, nil)
	e.post(t, `{ customers { nodes { nope } } }`, nil)
	e.token = ""
	e.post(t, `{ viewer { role } }`, nil)
	logs := e.logs.String()
	for _, want := range []string{
		"level=INFO msg=request", "status=200 codes=BAD_USER_INPUT",
		"status=200 codes=GRAPHQL_VALIDATION_FAILED", // application/json: a request error is 200
		"status=401 codes=UNAUTHENTICATED",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the access log lacks %q:\n%s", want, logs)
		}
	}

	e = newEnv(t, "sqlite", nil)
	e.store.Close()
	r := e.post(t, `{ customer(sourceCustomerId: "C1") { country } }`, nil)
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("a nullable root field on a closed store: got %d %s %+v, want 503", r.status, r.Data, r.Errors)
	}
	e.post(t, `{ customer(sourceCustomerId: "C1") { country } }`, nil)
	logs = e.logs.String()
	if countLines(logs, "level=INFO msg=request", "status=503 codes=SERVICE_UNAVAILABLE") != 2 {
		t.Errorf("the access log does not show the outage at INFO:\n%s", logs)
	}
	if n := countLines(logs, "level=WARN", `msg="database unavailable"`, `cause="sql: database is closed"`); n != 1 {
		t.Errorf("%d lines for the cause, want 1:\n%s", n, logs)
	}
}

// GORM's own messages reach the log formatted, on one line. Opening a store (here by `migrate
// up`; serving and ingest open it alike) logs nothing of GORM's at the default level: its
// "replacing callback" is setup noise, at debug. A failed connection is logged on one line, and
// without the URL's password.
func TestGormMessagesFormatted(t *testing.T) {
	unformatted := func(t *testing.T, logs string) {
		t.Helper()
		for _, mark := range []string{"%s", "%v", "args=", `\n`, `\t`} {
			if strings.Contains(logs, mark) {
				t.Errorf("a GORM message is logged unformatted (%q):\n%s", mark, logs)
			}
		}
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			if kind == "postgres" {
				postgresURL(t)
			}
			url := freshURL(t, kind)
			for _, level := range []string{"info", "debug"} {
				var stdout, stderr bytes.Buffer
				if code := run(context.Background(), []string{"migrate", "up", "-database-url", url, "-log-level", level}, &stdout, &stderr); code != 0 {
					t.Fatalf("migrate up at %s: exit %d\n%s", level, code, stderr.String())
				}
				logs := stderr.String()
				unformatted(t, logs)
				if level == "info" && strings.Contains(logs, "replacing callback") {
					t.Errorf("GORM's callback set-up is logged at info:\n%s", logs)
				}
				if want := "level=DEBUG msg=\"replacing callback `gorm:row` from "; level == "debug" && kind == "postgres" && !strings.Contains(logs, want) {
					t.Errorf("at debug, the log lacks %q:\n%s", want, logs)
				}
			}
		})
	}
	t.Run("failed connection", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		url := "postgres://postgres:hunter2-secret@127.0.0.1:1/test?connect_timeout=5"
		if code := run(context.Background(), []string{"migrate", "up", "-database-url", url}, &stdout, &stderr); code != 1 {
			t.Fatalf("exit %d, want 1\n%s", code, stderr.String())
		}
		logs := stderr.String()
		unformatted(t, logs)
		if want := "connect to the database: failed to connect to `user=postgres database=test`: 127.0.0.1:1 "; !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
		if strings.Contains(logs, "hunter2") {
			t.Errorf("the log holds the URL's password:\n%s", logs)
		}
	})
}
