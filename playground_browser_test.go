package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPlaygroundInBrowser opens the playground in a real Chromium (e2e/playground.js): on a
// server started as `go run . -demo` starts it, the Docs explorer shows the schema, the
// default query shows demo data, autocompletion works, and no request of the page leaves the
// server; on a server that checks tokens, the token field makes the docs and the query work.
// It records the introspection query GraphiQL sends, which must be the one in testdata/ that
// the limits tests send (UPDATE_TESTDATA=1 rewrites it). It needs node, Chromium and
// e2e/node_modules (npm ci --prefix e2e): without them it is skipped, except under CI=true,
// where it fails. The screenshot goes to $CI_ARTIFACTS, or ./artifacts.
func TestPlaygroundInBrowser(t *testing.T) {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium+" (apt-get install chromium)")
	}
	if _, err := os.Stat("e2e/node_modules/playwright-core"); err != nil {
		missing = append(missing, "e2e/node_modules/playwright-core (npm ci --prefix e2e)")
	}
	if len(missing) > 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("under CI=true the browser test must run; missing: %v", missing)
		}
		t.Skipf("missing %v", missing)
	}
	artifacts := os.Getenv("CI_ARTIFACTS")
	if artifacts == "" {
		artifacts = "artifacts"
	}
	artifacts = must(filepath.Abs(artifacts))

	open := runServer(t, "-demo")
	secured := runServer(t, "-auth-jwt-secret", testSecret, "-auth-jwt-issuer", "issuer", "-auth-jwt-audience", "portfolio-graph")
	introspection := filepath.Join(t.TempDir(), "introspection.graphql")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "e2e/playground.js")
	cmd.Env = append(os.Environ(),
		"PLAYGROUND_URL="+open+"/",
		"AUTH_PLAYGROUND_URL="+secured+"/",
		"ADMIN_TOKEN="+token(t, "admin"),
		"CHROMIUM="+chromium,
		"ARTIFACTS="+artifacts,
		"INTROSPECTION_OUT="+introspection,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("e2e/playground.js:\n%s", out)
	if err != nil {
		t.Fatalf("browser test failed: %v", err)
	}

	sent := must(os.ReadFile(introspection))
	file := standardIntrospection["GraphiQL"]
	if os.Getenv("UPDATE_TESTDATA") == "1" {
		if err := os.WriteFile(file, sent, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want, _ := os.ReadFile(file); !bytes.Equal(sent, want) {
		t.Errorf("GraphiQL sent another introspection query than %s (rewrite it with UPDATE_TESTDATA=1 and check the limits tests):\n%s", file, sent)
	}
}

// runServer runs the server as the command line would, on the embedded store in a
// temporary folder and a free loopback port, and returns its base URL once it is ready. It
// is stopped when the test ends.
func runServer(t *testing.T, args ...string) string {
	t.Helper()
	ln := must(net.Listen("tcp", "127.0.0.1:0"))
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	ctx, cancel := context.WithCancel(context.Background())
	logs := &lockedWriter{w: &bytes.Buffer{}}
	output := func() string {
		logs.mu.Lock()
		defer logs.mu.Unlock()
		return logs.w.(*bytes.Buffer).String()
	}
	done := make(chan int, 1)
	args = append([]string{"-listen", "127.0.0.1:" + strconv.Itoa(port),
		"-database-url", filepath.Join(t.TempDir(), "portfolio.db"), "-log-level", "warn", "-shutdown-drain", "0s"}, args...)
	go func() { done <- run(ctx, args, logs, logs) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	deadline := time.Now().Add(2 * time.Minute) // -demo ingests 1,000 customers first
	for {
		select {
		case code := <-done:
			done <- code
			t.Fatalf("server %v exited with %d: %s", args, code, output())
		default:
		}
		// It listens at once, and is ready once its store has started (and -demo loaded).
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server %v did not get ready: %v\n%s", args, err, output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The playground page and its assets come from the server with their headers: a strict
// Content-Security-Policy on the page, long caching of the versioned assets, the licences
// beside them, and no URL of another origin in the page.
func TestPlaygroundServedFromBinary(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp := must(http.Get(e.url + path))
		defer resp.Body.Close()
		return resp, must(io.ReadAll(resp.Body))
	}
	resp, page := get("/")
	h := resp.Header
	if resp.StatusCode != http.StatusOK || h.Get("Content-Type") != "text/html; charset=utf-8" || h.Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET /: %d %v", resp.StatusCode, h)
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self';", "connect-src 'self';", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers: %v", h)
	}
	if regexp.MustCompile(`(src|href)="(https?:)?//`).Match(page) {
		t.Errorf("the page loads something from another origin:\n%s", page)
	}
	if bytes.Contains(page, []byte("<script>")) {
		t.Errorf("the page has an inline script:\n%s", page)
	}
	refs := regexp.MustCompile(`(?:src|href)="(/playground/[0-9a-f]+/[^"]+)"`).FindAllSubmatch(page, -1)
	if len(refs) != 6 {
		t.Fatalf("want 6 assets (4 scripts, 2 stylesheets), got %d:\n%s", len(refs), page)
	}
	base := path.Dir(string(refs[0][1]))
	for _, ref := range refs {
		resp, body := get(string(ref[1]))
		want := "text/javascript; charset=utf-8"
		if strings.HasSuffix(string(ref[1]), ".css") {
			want = "text/css; charset=utf-8"
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != want || len(body) == 0 ||
			resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: %d %v", ref[1], resp.StatusCode, resp.Header)
		}
		if bytes.Contains(body, []byte("sourceMappingURL")) {
			t.Errorf("%s names a source map", ref[1])
		}
	}
	for _, name := range []string{"LICENSE.graphiql", "LICENSE.react", "LICENSE.react-dom", "VERSIONS"} {
		if resp, body := get(base + "/" + name); resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("MIT")) && name != "VERSIONS" {
			t.Errorf("%s: %d %.80s", name, resp.StatusCode, body)
		}
	}
	for _, p := range []string{"/playground/0123456789abcdef/graphiql.min.js", base + "/index.html", base + "/../page/index.html", "/nothing"} {
		if resp, _ := get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	post := must(http.Post(e.url+"/", "text/plain", strings.NewReader("x")))
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", post.StatusCode)
	}
	// Off the loopback address, or with -playground=false, there is no playground.
	cfg := *e.cfg
	off := httptest.NewServer(newHTTPHandler(e.store, &cfg, nil, slog.New(slog.DiscardHandler), false))
	defer off.Close()
	if resp := must(http.Get(off.URL + "/")); resp.StatusCode != http.StatusNotFound {
		t.Errorf("playground off: GET / is %d", resp.StatusCode)
	}
}
