package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// The documents of the three parse and validation attacks: each must be answered with an
// error, cheaply (BenchmarkAttackDocuments measures how cheaply).
func attackDocuments() map[string]string {
	var repeat, aliases, fragments strings.Builder
	repeat.WriteString("{ viewer {")
	for range 10000 {
		repeat.WriteString(" role")
	}
	repeat.WriteString(" } }")

	aliases.WriteString("{")
	for i := range 2000 {
		fmt.Fprintf(&aliases, " a%d: customers { totalCount }", i)
	}
	aliases.WriteString(" }")

	// Each fragment spreads the previous one twice: 300 fragments expand to 2^300 fields.
	fragments.WriteString("query { ...F299 }\nfragment F0 on Query { viewer { role } }\n")
	for i := 1; i < 300; i++ {
		fmt.Fprintf(&fragments, "fragment F%d on Query { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	return map[string]string{"repeated field": repeat.String(), "aliases": aliases.String(), "nested fragments": fragments.String()}
}

func TestAttackDocumentsAreRefused(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	for name, doc := range attackDocuments() {
		t.Run(name, func(t *testing.T) {
			errs := e.errorsOf(t, doc, nil)
			switch errs[0].code() {
			case "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "COMPLEXITY_LIMIT_EXCEEDED", "DEPTH_LIMIT_EXCEEDED":
			default:
				t.Errorf("got %+v", errs[0])
			}
		})
	}
}

func BenchmarkAttackDocuments(b *testing.B) {
	e := newEnv(b, "sqlite", nil)
	for name, doc := range attackDocuments() {
		body := []byte(jsonString(map[string]any{"query": doc}))
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				resp := must(http.Post(e.url+"/query", "application/json", bytes.NewReader(body)))
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// Each limit answers with its code.
func TestLimits(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	e.mustIngest(t, many(3, "O1")...)

	t.Run("body", func(t *testing.T) {
		e := newEnv(t, "sqlite", func(c *config) { c.maxBodyBytes = 4096 })
		big := `{"query": "{ viewer { role } }", "variables": {"x": "` + strings.Repeat("x", 5000) + `"}}`
		for _, chunked := range []bool{false, true} {
			var body io.Reader = strings.NewReader(big)
			if chunked {
				body = io.MultiReader(strings.NewReader(big)) // no Content-Length
			}
			resp := must(http.Post(e.url+"/query", "application/json", body))
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(raw, []byte(`"PAYLOAD_TOO_LARGE"`)) {
				t.Errorf("chunked=%v: got %d %s", chunked, resp.StatusCode, raw)
			}
		}
	})
	t.Run("tokens", func(t *testing.T) {
		doc := "{ viewer { " + strings.Repeat("role ", 10001) + "} }"
		errs := e.errorsOf(t, doc, nil)
		if errs[0].code() != "GRAPHQL_PARSE_FAILED" || !strings.Contains(errs[0].Message, "token") {
			t.Errorf("got %+v", errs[0])
		}
	})
	t.Run("depth", func(t *testing.T) {
		deep := "{ customers { nodes {" + strings.Repeat(" parent {", 10) + " id" + strings.Repeat(" }", 10) + " } } }" // 13 levels
		errs := e.errorsOf(t, deep, nil)
		if errs[0].code() != "DEPTH_LIMIT_EXCEEDED" {
			t.Errorf("got %+v", errs[0])
		}
		ok := "{ customers { nodes {" + strings.Repeat(" parent {", 9) + " id" + strings.Repeat(" }", 9) + " } } }" // 12 levels
		e.query(t, ok, nil, nil)
		// Fragments count at the depth they are spread.
		frag := "query { customers { nodes { ...P } } } fragment P on Customer {" + strings.Repeat(" parent {", 10) + " id" + strings.Repeat(" }", 10) + " }"
		if errs := e.errorsOf(t, frag, nil); errs[0].code() != "DEPTH_LIMIT_EXCEEDED" {
			t.Errorf("fragment: got %+v", errs[0])
		}
	})
	t.Run("complexity", func(t *testing.T) {
		// 500 customers x 500 children each: 250,000, far above 20,000.
		errs := e.errorsOf(t, `{ customers(first: 500) { nodes { children(first: 500) { nodes { sourceCustomerId } } } } }`, nil)
		if errs[0].code() != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Errorf("got %+v", errs[0])
		}
		// A full page with nested lists is fine, and so is a smaller page of children.
		e.query(t, `{ customers(first: 500) { nodes { accounts { holders { sourceCustomerId } cards { last4 customer { sourceCustomerId } } } } } }`, nil, nil)
		e.query(t, `{ customers(first: 20) { nodes { children(first: 100) { nodes { sourceCustomerId } } } } }`, nil, nil)
		// Aliases add up.
		var many strings.Builder
		for i := range 50 {
			fmt.Fprintf(&many, " a%d: customers(first: 500) { nodes { sourceCustomerId } }", i)
		}
		if errs := e.errorsOf(t, "{"+many.String()+" }", nil); errs[0].code() != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Errorf("aliases: got %+v", errs[0])
		}
	})
	t.Run("complexity of a document sent again", func(t *testing.T) {
		// The complexity of an operation is remembered per values of the variables that can
		// change it: the same text with another page size or number of ids is priced again,
		// whatever was sent before it; other variables do not matter.
		page := `query($n: Int, $org: String!) { customers(first: $n, filter: { organizationIds: [$org] }) {
			nodes { children(first: 500) { nodes { sourceCustomerId } } } } }`
		ids := `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Customer { children(first: 500) { nodes { sourceCustomerId } } } } }`
		var many []string
		for range 100 {
			many = append(many, "Q3VzdG9tZXI6eA") // any id: the price comes before the look-up
		}
		steps := []struct {
			doc     string
			vars    obj
			refused bool
		}{
			{page, obj{"n": 10, "org": "O1"}, false},
			{page, obj{"n": 500, "org": "O1"}, true},
			{page, obj{"n": 10, "org": "O2"}, false},
			{page, obj{"org": "O1"}, true}, // the default page size, 50
			{page, obj{"n": nil, "org": "O1"}, true},
			{page, obj{"n": 10, "org": "O1"}, false},
			{page, obj{"n": 500, "org": "O2"}, true},
			{ids, obj{"ids": many[:1]}, false},
			{ids, obj{"ids": many}, true},
			{ids, obj{"ids": many[:2]}, false},
		}
		for i, s := range steps {
			r := e.post(t, s.doc, s.vars)
			refused := len(r.Errors) > 0 && r.Errors[0].code() == "COMPLEXITY_LIMIT_EXCEEDED"
			if refused != s.refused {
				t.Errorf("step %d %v: refused=%v, want %v (%+v)", i, s.vars, refused, s.refused, r.Errors)
			}
		}
	})
	t.Run("page size", func(t *testing.T) {
		if errs := e.errorsOf(t, `{ customers(first: 501) { totalCount } }`, nil); errs[0].code() != "BAD_USER_INPUT" {
			t.Errorf("got %+v", errs[0])
		}
	})
	t.Run("suggestions hidden from non-admins", func(t *testing.T) {
		// In open mode the caller is an admin and gets suggestions; readers do not (see below).
		errs := e.errorsOf(t, `{ custmers { totalCount } }`, nil)
		if !strings.Contains(errs[0].Message, "Did you mean") {
			t.Errorf("admin: got %q", errs[0].Message)
		}
		r := newEnv(t, "sqlite", withAuth)
		r.token = token(t, "reader", "O1")
		errs = r.errorsOf(t, `{ custmers { totalCount } }`, nil)
		if strings.Contains(errs[0].Message, "Did you mean") {
			t.Errorf("reader: got %q", errs[0].Message)
		}
	})
}

// sameDatabase starts a second server on e's database, configured as tweak says: the server
// reads its configuration once, at start.
func sameDatabase(t *testing.T, e *env, tweak func(*config)) *env {
	t.Helper()
	return newEnv(t, e.kind, func(c *config) {
		c.databaseURL = e.cfg.databaseURL
		tweak(c)
	})
}

// The request timeout ends the request, SQL included, with SERVICE_UNAVAILABLE.
func TestRequestTimeout(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	e.mustIngest(t, many(3, "O1")...)
	e = sameDatabase(t, e, func(c *config) { c.requestTimeout = time.Nanosecond })
	r := e.post(t, `{ customers { nodes { accounts { cards { last4 } } } } }`, nil)
	if len(r.Errors) == 0 || r.Errors[0].code() != "SERVICE_UNAVAILABLE" || r.status != http.StatusServiceUnavailable {
		t.Errorf("got %d %+v", r.status, r.Errors)
	}
}

// On PostgreSQL, a statement still running when the request's time is up is cancelled on the
// server, not left behind: here the statement waits for a lock another session holds.
func TestRequestTimeoutCancelsRunningSQL(t *testing.T) {
	postgresURL(t)
	e := newEnv(t, "postgres", nil)
	e.mustIngest(t, many(2, "O1")...)
	e = sameDatabase(t, e, func(c *config) { c.requestTimeout = 300 * time.Millisecond })

	locker, err := gorm.Open(postgres.Open(e.cfg.databaseURL), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := locker.DB()
	defer sqlDB.Close()
	tx := locker.Begin()
	defer tx.Rollback()
	if err := tx.Exec("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE").Error; err != nil {
		t.Fatal(err)
	}
	waiting := func() int64 {
		var n int64
		tx.Raw(`SELECT count(*) FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))`).Scan(&n)
		return n
	}
	done := make(chan gqlResponse)
	go func() { done <- e.post(t, `{ customers { totalCount } }`, nil) }()
	sawWaiting := false
	for r := (gqlResponse{}); ; {
		select {
		case r = <-done:
		default:
			sawWaiting = sawWaiting || waiting() > 0
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !sawWaiting {
			t.Fatal("the request's statement never waited for the lock: the test proves nothing")
		}
		if len(r.Errors) == 0 || r.Errors[0].code() != "SERVICE_UNAVAILABLE" || r.status != http.StatusServiceUnavailable {
			t.Fatalf("got %d %+v", r.status, r.Errors)
		}
		break
	}
	// The blocked statement is gone from the server while the lock is still held.
	deadline := time.Now().Add(5 * time.Second)
	for waiting() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := waiting(); n > 0 {
		t.Errorf("%d statements still wait for the lock after the request ended", n)
	}
}
