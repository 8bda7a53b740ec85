package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestNodeFetchIntrospection introspects the server as the command line starts it with Node's
// built-in fetch (e2e/node-fetch.js), as Node tools that read a schema from a server do
// (GraphQL Codegen), and requires the answer to decode and parse: with the Accept-Encoding
// fetch sends itself, and with the list of every encoding a browser knows of
// ("gzip, deflate, br, zstd"), a tie that must be answered with gzip: Node 20's fetch does
// not decode zstd. It needs node (no packages): without it the test is skipped, except under
// CI=true, where it fails.
func TestNodeFetchIntrospection(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("under CI=true the Node fetch test must run; node is missing")
		}
		t.Skip("node is missing")
	}
	base := runServer(t)
	for _, c := range []struct{ accept, want string }{
		{"", "ok content-encoding=gzip "}, // what Node's fetch sends itself
		{"gzip, deflate, br, zstd", "ok content-encoding=gzip "},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		args := []string{"e2e/node-fetch.js", base + "/query"}
		if c.accept != "" {
			args = append(args, c.accept)
		}
		out, err := exec.CommandContext(ctx, "node", args...).CombinedOutput()
		cancel()
		if !strings.HasPrefix(string(out), c.want) {
			t.Errorf("Accept-Encoding %q: node e2e/node-fetch.js printed %q (%v), want %q…", c.accept, out, err, c.want)
		}
	}
}
