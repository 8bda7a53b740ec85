package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// tcpProxy forwards loopback connections to a target address, and can be cut (every
// connection closed, new ones refused) and restored, like a database restarting under the
// server's feet.
type tcpProxy struct {
	target, addr string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{target: target, addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]bool{}}
	go p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return // cut
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, up) {
			continue
		}
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

// track registers a pair of connections, or closes them when the proxy was cut meanwhile.
func (p *tcpProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

func (p *tcpProxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// cut closes every connection and stops listening: new connections are refused.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// restore listens again, on the same address.
func (p *tcpProxy) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go p.serve(ln)
}

// PostgreSQL going away under a running server turns answers into coded 503s, whatever the
// nullability of the root fields, with no driver text; /readyz says 503; and once it is back,
// answers and /readyz recover without a restart.
func TestDatabaseOutage(t *testing.T) {
	base := postgresURL(t)
	target := must(url.Parse(base)).Host
	proxy := newTCPProxy(t, target)
	e := newEnv(t, "postgres", func(c *config) {
		u := must(url.Parse(c.databaseURL))
		u.Host = proxy.addr
		c.databaseURL = u.String()
	})
	e.mustIngest(t, customer("C1", "O1"))

	queries := map[string]string{
		"nullable root":                `{ customer(sourceCustomerId: "C1") { country } }`,
		"non-null root":                `{ customers { totalCount nodes { sourceCustomerId } } }`,
		"two roots":                    `{ a: customer(sourceCustomerId: "C1") { country } b: customers { totalCount } }`,
		"nested, from a nullable root": `{ customer(sourceCustomerId: "C1") { accounts { cards { last4 } } } }`,
	}
	answer := func(t *testing.T, q string) gqlResponse {
		t.Helper()
		return e.post(t, q, nil)
	}
	for name, q := range queries {
		if r := answer(t, q); r.status != 200 || len(r.Errors) > 0 {
			t.Fatalf("%s before the outage: got %d %+v", name, r.status, r.Errors)
		}
	}

	proxy.cut()
	for name, q := range queries {
		t.Run("down/"+name, func(t *testing.T) {
			r := answer(t, q)
			if r.status != http.StatusServiceUnavailable || len(r.Errors) == 0 {
				t.Fatalf("got %d %s %+v, want 503", r.status, r.Data, r.Errors)
			}
			for _, err := range r.Errors {
				if err.code() != "SERVICE_UNAVAILABLE" {
					t.Errorf("error %+v, want SERVICE_UNAVAILABLE", err)
				}
				for _, mark := range []string{proxy.addr, "dial", "refused", "EOF", "connect", "closed"} {
					if strings.Contains(err.Message, mark) {
						t.Errorf("the message shows driver text (%q): %s", mark, err.Message)
					}
				}
			}
		})
	}
	r := e.post(t, ingestQuery, obj{"customers": []any{customer("C2", "O1")}})
	if r.status != http.StatusServiceUnavailable || len(r.Errors) == 0 || r.Errors[0].code() != "SERVICE_UNAVAILABLE" {
		t.Errorf("ingest during the outage: got %d %s %+v, want 503 SERVICE_UNAVAILABLE", r.status, r.Data, r.Errors)
	}
	if code, body := get(t, e.url+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz during the outage: got %d %q", code, body)
	}
	// Each answer's access log line is at INFO; the causes (the refused connection, the ones
	// closed under the pool) are logged at WARN by the store, once each.
	logs := e.logs.String()
	answers := countLines(logs, "level=INFO msg=request", "status=503 codes=SERVICE_UNAVAILABLE")
	causes := countLines(logs, "level=WARN", `msg="database unavailable"`)
	if answers != len(queries)+1 || causes == 0 || causes > 3 || countLines(logs, "level=WARN msg=request") != 0 {
		t.Errorf("the log shows the outage in %d access lines at INFO (want %d) and %d cause lines (want 1 to 3):\n%s", answers, len(queries)+1, causes, logs)
	}

	proxy.restore(t)
	// New connections fail at once until the store's one retrying connection gets through
	// (db/connect.go): recovery follows within a fraction of a second, and from then on every
	// answer is whole.
	waitReady(t, e.url, 2*time.Second)
	for name, q := range queries {
		if r := answer(t, q); r.status != 200 || len(r.Errors) > 0 {
			t.Errorf("%s after the outage: got %d %+v", name, r.status, r.Errors)
		}
	}
	if n := e.customerCount(t); n != 1 {
		t.Errorf("stored customers: got %d, want 1 (the ingest during the outage wrote nothing)", n)
	}
}

// Pooled connections that the server closed while they sat idle (a restart, a fail-over, a
// proxy's idle timeout) cost no request: the next reads run on fresh connections.
func TestReadsSurviveConnectionsClosedWhileIdle(t *testing.T) {
	postgresURL(t)
	e := newEnv(t, "postgres", nil)
	e.mustIngest(t, many(3, "O1")...)
	const q = `{ customer(sourceCustomerId: "C0001") { sourceCustomerId accounts { cards { last4 } } } }`
	e.post(t, q, nil) // the pool now holds connections
	app := must(url.Parse(e.cfg.databaseURL)).Query().Get("application_name")
	admin, err := gorm.Open(postgres.Open(os.Getenv("TEST_DATABASE_URL")), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if sqlDB, err := admin.DB(); err == nil {
		defer sqlDB.Close()
	}
	var killed []bool
	if err := admin.Raw(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?`, app).Scan(&killed).Error; err != nil || len(killed) == 0 {
		t.Fatalf("terminate the pool's connections: %v (%d)", err, len(killed))
	}
	time.Sleep(100 * time.Millisecond) // the backends exit
	for i := 0; i < 3; i++ {
		if resp := e.post(t, q, nil); len(resp.Errors) > 0 || !strings.Contains(string(resp.Data), `"C0001"`) {
			t.Fatalf("read %d after the connections were closed: %s %+v", i, resp.Data, resp.Errors)
		}
	}
}

// waitReady polls /readyz until it answers 200, and fails the test when it has not within
// limit (a bound on recovery, generous for a loaded machine: not a timing measurement).
func waitReady(t *testing.T, base string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start)
			}
			if time.Since(start) > limit {
				t.Fatalf("/readyz still %d %q after %s", resp.StatusCode, b, limit)
			}
		} else if time.Since(start) > limit {
			t.Fatalf("/readyz: %v after %s", err, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// While PostgreSQL refuses connections under load, the server does not dial it for every
// request: new connections fail at once and one connection is retried with backoff
// (db/connect.go), so connection attempts stay bounded whatever the request rate; every
// answer is a coded 503; and the server serves again soon after the database is back.
func TestOutageUnderLoadFailsFast(t *testing.T) {
	base := postgresURL(t)
	proxy := newTCPProxy(t, must(url.Parse(base)).Host)
	e := newEnv(t, "postgres", func(c *config) {
		u := must(url.Parse(c.databaseURL))
		u.Host = proxy.addr
		c.databaseURL = u.String()
	})
	e.mustIngest(t, customer("C1", "O1"))

	const outage, clients = 10 * time.Second, 8
	queries := []string{
		`{ customer(sourceCustomerId: "C1") { country accounts { cards { last4 } } } }`,
		`{ customers { totalCount nodes { sourceCustomerId } } }`,
		`{ a: viewer { role } b: customers { totalCount } }`,
	}
	proxy.cut()
	before := e.store.ConnectAttempts()
	var (
		mu       sync.Mutex
		statuses = map[string]int{}
		wg       sync.WaitGroup
	)
	stop := time.Now().Add(outage)
	for i := range clients {
		wg.Go(func() {
			for n := 0; time.Now().Before(stop); n++ {
				var r gqlResponse
				if n%4 == 3 {
					r, _ = e.send(ingestQuery, obj{"customers": []any{customer(fmt.Sprintf("W%d-%d", i, n), "O1")}})
				} else {
					r, _ = e.send(queries[n%len(queries)], nil)
				}
				key := fmt.Sprint(r.status)
				for _, err := range r.Errors {
					key += " " + err.code()
				}
				mu.Lock()
				statuses[key]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	attempts := e.store.ConnectAttempts() - before
	total := 0
	for key, n := range statuses {
		total += n
		if !strings.HasPrefix(key, "503 SERVICE_UNAVAILABLE") {
			t.Errorf("%d answers were %q, want 503 SERVICE_UNAVAILABLE", n, key)
		}
	}
	// The retry waits at most 100 ms, so 10 s make at most about 100 attempts; the pool's own
	// attempts before the first failure closed the gate come on top (one per client at most).
	perSecond := float64(attempts) / outage.Seconds()
	t.Logf("%d requests during the outage made %d connection attempts (%.1f/s)", total, attempts, perSecond)
	if limit := uint64(outage/(100*time.Millisecond)) + clients + 5; attempts > limit {
		t.Errorf("%d connection attempts during a %s outage, want at most %d", attempts, outage, limit)
	}
	if total < 2*int(attempts) {
		t.Errorf("%d requests made %d connection attempts: requests still dial the database", total, attempts)
	}

	proxy.restore(t)
	took := waitReady(t, e.url, 2*time.Second)
	t.Logf("ready %s after the database came back", took.Round(time.Millisecond))
	if r := e.post(t, queries[0], nil); r.status != 200 || len(r.Errors) > 0 {
		t.Errorf("after the outage: got %d %+v", r.status, r.Errors)
	}
	if n := e.customerCount(t); n != 1 {
		t.Errorf("stored customers: got %d, want 1 (nothing was written during the outage)", n)
	}
}
