package main

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestGraphQLOverHTTPAudits runs graphql-http's conformance audits of the GraphQL-over-HTTP
// specification (serverAudits, through e2e/http-audit.js) against the server as the command
// line starts it, and requires every one of them to be ok, the SHOULDs and MAYs included. It
// needs node and e2e/node_modules (npm ci --prefix e2e): without them it is skipped, except
// under CI=true, where it fails.
func TestGraphQLOverHTTPAudits(t *testing.T) {
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat("e2e/node_modules/graphql-http"); err != nil {
		missing = append(missing, "e2e/node_modules/graphql-http (npm ci --prefix e2e)")
	}
	if len(missing) > 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("under CI=true the GraphQL-over-HTTP audits must run; missing: %v", missing)
		}
		t.Skipf("missing %v", missing)
	}
	base := runServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "node", "e2e/http-audit.js", base+"/query").CombinedOutput()
	t.Logf("e2e/http-audit.js:\n%s", out)
	results := regexp.MustCompile(`(?m)^(ok|warn|notice|error) (\S+) `).FindAllStringSubmatch(string(out), -1)
	if len(results) < 61 {
		t.Fatalf("want at least the 61 audits of graphql-http 1.23, got %d results (%v)", len(results), err)
	}
	var failed []string
	for _, r := range results {
		if r[1] != "ok" {
			failed = append(failed, r[1]+" "+r[2])
		}
	}
	if len(failed) > 0 || err != nil {
		t.Errorf("audits not ok: %s (%v)", strings.Join(failed, ", "), err)
	}
}
