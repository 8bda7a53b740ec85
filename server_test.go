package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The transport: health endpoints, GET for queries only, the playground, content negotiation.
func TestHTTPEndpoints(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	e.mustIngest(t, customer("C1", "O1"))
	if code, body := get(t, e.url+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz: got %d %q", code, body)
	}
	if code, _ := get(t, e.url+"/readyz"); code != 200 {
		t.Errorf("readyz: got %d", code)
	}
	if code, body := get(t, e.url+"/"); code != 200 || !strings.Contains(body, "/query") {
		t.Errorf("playground: got %d", code)
	}
	code, body := get(t, e.url+"/query?query="+url.QueryEscape(`{ customer(sourceCustomerId: "C1") { country } }`))
	if code != 200 || !strings.Contains(body, `"country":"US"`) {
		t.Errorf("GET query: got %d %s", code, body)
	}
	code, body = get(t, e.url+"/query?query="+url.QueryEscape(`mutation { deleteCustomer(sourceCustomerId: "C1") { deletedId } }`))
	if code != http.StatusMethodNotAllowed || !strings.Contains(body, `"BAD_USER_INPUT"`) {
		t.Errorf("GET mutation: got %d %s, want 405 BAD_USER_INPUT", code, body)
	}
	if e.customerCount(t) != 1 {
		t.Errorf("a GET mutation deleted data")
	}

	req, _ := http.NewRequest("POST", e.url+"/query", strings.NewReader(`{"query":"{ viewer { role organizationIds } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/graphql-response+json") {
		t.Errorf("content type: got %q", ct)
	}
	if !strings.Contains(string(b), `"role":"ADMIN"`) || !strings.Contains(string(b), `"organizationIds":null`) {
		t.Errorf("viewer in open mode: got %s", b)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id header")
	}
}

// readyz answers 503 once the database is gone.
func TestReadyzWhenDatabaseDown(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	e.store.Close()
	if code, body := get(t, e.url+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "database") {
		t.Errorf("readyz: got %d %q, want 503", code, body)
	}
	// A query that can serve nothing is 503 SERVICE_UNAVAILABLE, or a generic internal error;
	// never the driver's message (checked for the whole suite by TestMain).
	r := e.post(t, `{ customers { totalCount nodes { sourceCustomerId } } }`, nil)
	if len(r.Errors) == 0 || (r.Errors[0].code() != "SERVICE_UNAVAILABLE" && r.Errors[0].code() != "INTERNAL_SERVER_ERROR") {
		t.Errorf("query on a closed store: got %d %+v", r.status, r.Errors)
	}
}

// `ingest FILE` loads a file through the ingestion path, lists every problem with its place in
// the file (the line of an NDJSON file, and the path inside its customer), exits non-zero when
// a batch was rejected, and loads the good batches.
func TestIngestCommand(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "cli.db")
	var nd bytes.Buffer
	for i, c := range many(5, "O1") {
		if i == 3 {
			c = with(c.(obj), "country", "ZZ")
		}
		nd.Write(must(json.Marshal(c)))
		nd.WriteString("\n")
	}
	file := filepath.Join(dir, "customers.ndjson")
	if err := os.WriteFile(file, nd.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"ingest", "-database-url", dbPath, "-batch", "2", file}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit code: got %d, want 1 (a batch was rejected)\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "    line 4: country INVALID_VALUE: ") || !strings.Contains(stdout.String(), "1 batch rejected") {
		t.Errorf("summary does not list the problem at its line:\n%s", stdout.String())
	}

	// The reference example, as a document, ingests; the good batches of the first file stayed.
	stdout.Reset()
	code = run(context.Background(), []string{"ingest", "-database-url", dbPath, "testdata/reference-example.json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("reference example: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	e := newEnv(t, "sqlite", func(c *config) { c.databaseURL = dbPath })
	// batches of 2: [C0 C1] ok, [C2 C3] rejected, [C4] ok, plus the reference example
	if n := e.customerCount(t); n != 4 {
		t.Errorf("stored customers: got %d, want 4", n)
	}

	// -skip-invalid loads C2 from the rejected batch and lists C3; a customer with a value of the
	// wrong type (an unknown enum) is skipped too, with the field named, and C4 beside it loads.
	nd.WriteString(string(must(json.Marshal(with(customer("C5", "O1"), "targetingIndicator", "CONTROL")))) + "\n")
	nd.WriteString(string(must(json.Marshal(customer("C6", "O1")))) + "\n")
	if err := os.WriteFile(file, nd.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	code = run(context.Background(), []string{"ingest", "-database-url", dbPath, "-batch", "2", "-skip-invalid", file}, &stdout, &stderr)
	out := stdout.String()
	if code != 1 || !strings.Contains(out, "line 4: country INVALID_VALUE") || !strings.Contains(out, "line 6: targetingIndicator") ||
		!strings.Contains(out, "0 batches rejected, 2 customers skipped") {
		t.Errorf("exit %d, summary:\n%s\n%s", code, out, stderr.String())
	}
	// C0-C6 without C3 and C5, and the reference example's customer
	if n := e.customerCount(t); n != 6 {
		t.Errorf("stored customers: got %d, want 6", n)
	}
	// Progress, when standard error is not a terminal, is plain lines; the last one says the
	// whole file was read.
	if !strings.Contains(stderr.String(), "7 customers, 4 batches (0 rejected)") ||
		!strings.Contains(stderr.String(), "100% of "+strconv.Itoa(nd.Len())+" bytes") {
		t.Errorf("progress lines:\n%s", stderr.String())
	}
}

// Without -skip-invalid, a batch with a customer whose values the schema's types refuse is
// rejected, and every problem of the batch is listed at its customer: each type error (an
// unknown enum, a date without an offset) and the other customers' rule violations; in NDJSON
// at the customer's line, in a document at the customer's index.
func TestIngestCommandListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	var lines [][]byte
	for _, c := range []obj{
		customer("C0", "O1"),
		with(customer("C1", "O1"), "targetingIndicator", "CONTROL"),
		with(customer("C2", "O1"), "country", "ZZ"),
		with(customer("C3", "O1"), "enrollmentStartDate", "2023-01-01T08:00:00"),
		with(customer("C4", "O1"), "postalCode", "INVALID"),
	} {
		// Invalid UTF-8 in a file is a problem at its path, never stored altered.
		lines = append(lines, bytes.Replace(must(json.Marshal(c)), []byte("INVALID"), []byte("7875\xff"), 1))
	}
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"customers.ndjson", string(bytes.Join(lines, []byte("\n"))) + "\n", []string{"line 2: targetingIndicator GRAPHQL_VALIDATION_FAILED",
			"line 3: country INVALID_VALUE", "line 4: enrollmentStartDate GRAPHQL_VALIDATION_FAILED", "line 5: postalCode INVALID_FORMAT"}},
		{"customers.json", `{"customers": [` + string(bytes.Join(lines, []byte(",\n"))) + "]}", []string{"    customers[1].targetingIndicator GRAPHQL_VALIDATION_FAILED",
			"    customers[2].country INVALID_VALUE", "    customers[3].enrollmentStartDate GRAPHQL_VALIDATION_FAILED", "    customers[4].postalCode INVALID_FORMAT"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dbPath := filepath.Join(dir, c.name+".db")
			file := filepath.Join(dir, c.name)
			if err := os.WriteFile(file, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"ingest", "-database-url", dbPath, file}, &stdout, &stderr)
			out := stdout.String()
			for _, want := range append(c.want, "read 5 customers in 1 batch; 1 batch rejected, 0 customers skipped", "4 problems") {
				if !strings.Contains(out, want) {
					t.Errorf("summary lacks %q:\n%s", want, out)
				}
			}
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if n := newEnv(t, "sqlite", func(c *config) { c.databaseURL = dbPath }).customerCount(t); n != 0 {
				t.Errorf("a rejected batch wrote %d customers", n)
			}
		})
	}
}

// A file that holds no customer (empty, blank lines, an empty list) is most likely the output of
// a step that failed: the command says so and exits 1.
func TestIngestCommandEmptyFile(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"empty.ndjson": "", "blank.ndjson": "\n\n", "empty.json": `{"customers": []}`} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, name)
			if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"ingest", "-database-url", filepath.Join(dir, name+".db"), file}, &stdout, &stderr)
			if want := file + ": the input holds no customers"; code != 1 || !strings.Contains(stderr.String(), want) {
				t.Errorf("exit %d, want 1 and %q in:\n%s", code, want, stderr.String())
			}
		})
	}
}

// A JSON syntax error stops the load and says where it is in the file: line, column, byte.
func TestIngestCommandSyntaxErrorPosition(t *testing.T) {
	dir := t.TempDir()
	good := string(must(json.Marshal(customer("C0", "O1"))))
	for name, c := range map[string]struct{ text, want string }{
		"ndjson":   {good + "\n" + good + "\n{\"sourceCustomerId\": }\n", "line 3, column 22"},
		"document": {"{\"customers\": [\n  " + good + ",\n  {\"sourceCustomerId\": \"C1\",\n   \"country\" \"US\"}]}", "line 4, column 14"},
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, name+".json")
			if err := os.WriteFile(file, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"ingest", "-database-url", filepath.Join(dir, name+".db"), file}, &stdout, &stderr)
			if code != 1 || !strings.Contains(stderr.String(), c.want) {
				t.Errorf("exit %d, want 1 and %q in:\n%s", code, c.want, stderr.String())
			}
		})
	}
}

// -h lists every flag with its environment variable.
func TestHelpListsConfiguration(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, io.Discard, &stderr); code != 0 {
		t.Errorf("exit code %d", code)
	}
	for _, v := range []string{"DATABASE_URL", "LISTEN_ADDR", "LOG_LEVEL", "REQUEST_TIMEOUT", "MAX_PAGE_SIZE", "MAX_INGEST_BATCH", "MAX_BODY_BYTES",
		"MAX_BODY_BYTES_IN_FLIGHT", "MAX_DECODES_IN_FLIGHT"} {
		if !strings.Contains(stderr.String(), v) {
			t.Errorf("-h does not mention %s", v)
		}
	}
}

// Each command lists only its own flags, says what it takes, and an unknown command or
// subcommand is named as such.
func TestCommandsHaveTheirOwnUsage(t *testing.T) {
	for _, c := range []struct {
		args          []string
		code          int
		want, notWant []string
	}{
		{[]string{"ingest", "-h"}, 0, []string{"ingest [flags] FILE...", "-batch", "-skip-invalid", "-database-url"}, []string{"-listen", "-auth-jwt-secret", "-max-page-size", "-demo"}},
		{[]string{"migrate", "-h"}, 0, []string{"migrate [status|up]", "-database-url"}, []string{"-listen", "-batch", "-playground"}},
		{[]string{"migrate", "bogus"}, 2, []string{`unknown migrate subcommand "bogus"`, "status or up"}, nil},
		{[]string{"bogus"}, 2, []string{`unknown command "bogus"`, "ingest, token and migrate"}, nil},
		{[]string{"ingest", "-listen", ":8080", "x.json"}, 2, []string{"flag provided but not defined: -listen"}, nil},
		{[]string{"-h"}, 0, []string{"-listen", "-database-url", "-max-ingest-batch"}, []string{"-skip-invalid", "  -batch"}},
		{[]string{"-batch", "10"}, 2, []string{"flag provided but not defined: -batch"}, nil},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), c.args, io.Discard, &stderr)
		out := stderr.String()
		if code != c.code {
			t.Errorf("%v: exit %d, want %d: %s", c.args, code, c.code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v does not say %q:\n%s", c.args, w, out)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(out, w) {
				t.Errorf("%v lists %q, a flag of another command:\n%s", c.args, w, out)
			}
		}
	}
}

// The bounds of what is read and decoded at once must leave room for one request: the server
// refuses to start with a smaller room for bodies than the largest body, or no decode at all.
func TestInFlightSettingsLeaveRoomForOneRequest(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-max-body-bytes", "2000", "-max-body-bytes-in-flight", "1999"}, "-max-body-bytes-in-flight (MAX_BODY_BYTES_IN_FLIGHT) is 1999, less than -max-body-bytes (MAX_BODY_BYTES), 2000"},
		{[]string{"-max-body-bytes-in-flight", "1000"}, "less than -max-body-bytes (MAX_BODY_BYTES), 16777216"},
		{[]string{"-max-decodes-in-flight", "0"}, "-max-decodes-in-flight (MAX_DECODES_IN_FLIGHT) is 0"},
	} {
		var stderr bytes.Buffer
		if code := run(context.Background(), c.args, io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, %s; want 2 and %q", c.args, code, stderr.String(), c.want)
		}
	}
	t.Setenv("MAX_BODY_BYTES_IN_FLIGHT", "1000")
	if c, _, err := parseConfig("test", []string{"-max-body-bytes", "1000"}, io.Discard); err != nil || c.bodyBytesFlight != 1000 {
		t.Errorf("equal bounds: %v", err)
	}
}

// Without a key the server is open, so it refuses a non-loopback address unless told -insecure.
func TestOpenModeRefusesPublicAddress(t *testing.T) {
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"-listen", "0.0.0.0:0", "-database-url", filepath.Join(t.TempDir(), "x.db")}, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "-insecure") {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
	// PORT alone listens on every interface: the message shows the loopback address to use.
	t.Setenv("PORT", "8083")
	stderr.Reset()
	code = run(context.Background(), []string{"-database-url", filepath.Join(t.TempDir(), "x.db")}, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "-listen 127.0.0.1:8083") {
		t.Errorf("PORT=8083: exit %d: %s", code, stderr.String())
	}
}

// Requests the transports cannot take get a coded error too, and a body that is not a GraphQL
// request is not echoed back.
func TestTransportErrors(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	do := func(method, ctype, body string) (int, string) {
		req := must(http.NewRequest(method, e.url+"/query", strings.NewReader(body)))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp := must(http.DefaultClient.Do(req))
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	cases := []struct {
		name, method, ctype, body string
		status                    int
		code                      string
	}{
		{"PUT", http.MethodPut, "application/json", `{"query": "{ viewer { role } }"}`, http.StatusMethodNotAllowed, "BAD_USER_INPUT"},
		{"DELETE", http.MethodDelete, "", "", http.StatusMethodNotAllowed, "BAD_USER_INPUT"},
		{"text body", http.MethodPost, "text/plain", `{ viewer { role } }`, http.StatusUnsupportedMediaType, "BAD_USER_INPUT"},
		{"JSON with charset", http.MethodPost, "application/json; charset=utf-8", `{"query": "{ viewer { role } }"}`, http.StatusOK, ""},
		{"not JSON", http.MethodPost, "application/json", `{"query": ` + strings.Repeat("x", 5000), http.StatusBadRequest, "BAD_USER_INPUT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := do(c.method, c.ctype, c.body)
			if status != c.status || (c.code != "" && !strings.Contains(body, `"`+c.code+`"`)) {
				t.Errorf("got %d %.300s", status, body)
			}
			if strings.Contains(body, strings.Repeat("x", 100)) {
				t.Errorf("the body is echoed back: %.200s", body)
			}
		})
	}
}

// After a load the ingest command refreshes PostgreSQL's statistics of the portfolio tables it
// wrote to, so that the generic plans connections keep fit the loaded tables
// (db.Store.Analyze): all four after a first load, none after a replay, which writes nothing,
// and only customers after a load that changes a customer's postal code.
func TestIngestCommandAnalyzesPostgres(t *testing.T) {
	base := postgresURL(t)
	u := pgSchemaURL(t, base)
	customers := many(3, "O1")
	load := func(cs []any) {
		t.Helper()
		file := filepath.Join(t.TempDir(), "customers.ndjson")
		var nd bytes.Buffer
		for _, c := range cs {
			nd.Write(must(json.Marshal(c)))
			nd.WriteString("\n")
		}
		if err := os.WriteFile(file, nd.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"ingest", "-database-url", u, file}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
		}
	}
	conn, err := gorm.Open(postgres.Open(u), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := conn.DB(); err == nil {
		defer sqlDB.Close()
	}
	// analyzed is how many times each table was analyzed so far (autovacuum does not analyze
	// tables of a few rows).
	analyzed := func() string {
		t.Helper()
		var rows []struct {
			Relname      string
			AnalyzeCount int
		}
		if err := conn.Raw(`SELECT relname, analyze_count FROM pg_stat_user_tables WHERE schemaname = current_schema()
			AND relname IN ('customers', 'accounts', 'account_holders', 'cards') ORDER BY relname`).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(rows)
	}
	// A backend's counts reach the statistics views as it ends, which may be just after the
	// command has returned: wait for them a little.
	waitAnalyzed := func(want string) string {
		t.Helper()
		got := analyzed()
		for deadline := time.Now().Add(5 * time.Second); got != want && time.Now().Before(deadline); got = analyzed() {
			time.Sleep(50 * time.Millisecond)
		}
		return got
	}
	const once = "[{account_holders 1} {accounts 1} {cards 1} {customers 1}]"
	load(customers)
	if got := waitAnalyzed(once); got != once {
		t.Errorf("tables analyzed after the first load: %s", got)
	}
	load(customers)
	time.Sleep(200 * time.Millisecond)
	if got := analyzed(); got != once {
		t.Errorf("tables analyzed after a replay: %s, want none again", got)
	}
	customers[1] = with(customers[1].(obj), "postalCode", "10001")
	load(customers)
	const customersAgain = "[{account_holders 1} {accounts 1} {cards 1} {customers 2}]"
	if got := waitAnalyzed(customersAgain); got != customersAgain {
		t.Errorf("tables analyzed after a customer's change: %s, want customers alone again", got)
	}
}
