package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// needE2E skips the test when node or one of e2e's packages is missing, except under CI=true,
// where it fails.
func needE2E(t *testing.T, packages ...string) {
	t.Helper()
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join("e2e", "node_modules", p)); err != nil {
			missing = append(missing, "e2e/node_modules/"+p+" (npm ci --prefix e2e)")
		}
	}
	if len(missing) > 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("under CI=true this test must run; missing: %v", missing)
		}
		t.Skipf("missing %v", missing)
	}
}

// node runs node in the folder dir ("" for this one) with the given environment (added to the
// test's) and returns what it printed.
func node(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var authFlags = []string{"-auth-jwt-secret", testSecret, "-auth-jwt-issuer", "issuer", "-auth-jwt-audience", "portfolio-graph"}

// TestRealClients runs e2e/clients.mjs, the server's common operations through Apollo Client 3
// and 4 and urql, against the server as the command line starts it, in open mode and with a
// JWT: an ingest and an update, the customers with their accounts and cards, a query with a
// deferred fragment (answered inline: each client must get the whole data and a final
// result), the viewer and portfolioStats each read twice with different selections (no cache
// warning from Apollo's InMemoryCache with REFERENCE.md's type policies, the warning without
// them), and a BAD_USER_INPUT error, which each client must expose with its extensions.code.
func TestRealClients(t *testing.T) {
	needE2E(t, "@apollo/client", "apollo-client-3", "@urql/core", "graphql", "rxjs")
	want := []string{}
	for _, client := range []string{"apollo3", "apollo4"} {
		for _, c := range []string{"mutation", "customers", "defer", "cache with typePolicies", "cache without typePolicies", "error"} {
			want = append(want, client+" "+c)
		}
	}
	want = append(want, "urql customers", "urql defer", "urql error")
	for _, run := range []struct {
		name string
		args []string
		env  []string
	}{
		{"open", nil, nil},
		{"jwt", authFlags, []string{"TOKEN=" + token(t, "admin")}},
	} {
		t.Run(run.name, func(t *testing.T) {
			base := runServer(t, run.args...)
			out, err := node(t, "", run.env, "--conditions=development", "e2e/clients.mjs", base+"/query")
			results := map[string]string{}
			for _, m := range regexp.MustCompile(`(?m)^(ok|error) (\w+ [^:\n]+)`).FindAllStringSubmatch(out, -1) {
				results[m[2]] = m[1]
			}
			for _, c := range want {
				if results[c] != "ok" {
					t.Errorf("%s: %q", c, results[c])
				}
			}
			if err != nil || len(results) != len(want) || t.Failed() {
				t.Errorf("node e2e/clients.mjs: %v, %d results, want %d:\n%s", err, len(results), len(want), out)
			}
		})
	}
}

// TestGraphQLCodegenPersistedDocuments runs GraphQL Codegen's client preset with persisted
// documents (e2e/codegen.config.cjs) over e2e/codegen/*.graphql and schema.graphqls; its
// persisted-documents.json must be testdata/persisted-documents-codegen.json (UPDATE_TESTDATA=1
// rewrites it). A server started on that manifest with auth runs the generated documents for a
// reader by the documentId the generated DocumentNodes carry (e2e/codegen-client.mjs), and
// refuses a document that is not in it.
func TestGraphQLCodegenPersistedDocuments(t *testing.T) {
	needE2E(t, "@graphql-codegen/cli", "@graphql-codegen/client-preset", "graphql")
	dir := t.TempDir()
	// From e2e/, as from an application's folder: it finds the preset there. It exits with 0
	// even when it wrote nothing (a preset not found), so what it wrote is checked.
	out, err := node(t, "e2e", []string{"CODEGEN_OUT=" + dir}, "node_modules/@graphql-codegen/cli/cjs/bin.js", "--config", "codegen.config.cjs")
	manifest := filepath.Join(dir, "persisted-documents.json")
	generated, rerr := os.ReadFile(manifest)
	if err != nil || rerr != nil {
		t.Fatalf("graphql-codegen: %v, %v\n%s", err, rerr, out)
	}
	const file = "testdata/persisted-documents-codegen.json"
	if os.Getenv("UPDATE_TESTDATA") == "1" {
		if err := os.WriteFile(file, generated, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(generated, readFile(t, file)) {
		t.Errorf("graphql-codegen wrote another manifest than %s (rewrite it with UPDATE_TESTDATA=1):\n%s", file, generated)
	}

	base := runServer(t, append([]string{"-trusted-documents", manifest}, authFlags...)...)
	admin := &env{url: base, token: token(t, "admin")}
	admin.mustIngest(t, customer("C1", "O1"), customer("C2", "O2"))
	reader := "TOKEN=" + token(t, "reader", "O1")
	out, err = node(t, "", []string{reader}, "e2e/codegen-client.mjs", base+"/query", dir, "Viewer", `CustomerCards={"first":5}`)
	if err != nil {
		t.Fatalf("node e2e/codegen-client.mjs: %v\n%s", err, out)
	}
	wants := map[string]string{
		"Viewer":        `{"data":{"viewer":{"organizationIds":["O1"],"role":"READER"}}}`,
		"CustomerCards": `{"data":{"customers":{"nodes":[{"accounts":[{"cards":[{"iin":"412345","last4":"1234"}],"sourceAccountId":"A-C1"}],"sourceCustomerId":"C1"}]}}}`,
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(wants) {
		t.Fatalf("want %d answers:\n%s", len(wants), out)
	}
	for _, line := range lines {
		var got struct {
			Operation, DocumentID string
			Status                int
			Body                  json.RawMessage
		}
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if !strings.HasPrefix(got.DocumentID, "sha256:") || !strings.Contains(string(generated), `"`+got.DocumentID+`"`) {
			t.Errorf("%s: documentId %q is not a key of the manifest", got.Operation, got.DocumentID)
		}
		if got.Status != 200 || string(got.Body) != wants[got.Operation] {
			t.Errorf("%s by documentId: %d %s, want 200 %s", got.Operation, got.Status, got.Body, wants[got.Operation])
		}
	}

	// The same text as the manifest's Viewer but another document; and an id it does not list.
	e := &env{url: base, token: strings.TrimPrefix(reader, "TOKEN=")}
	r := e.do(t, "POST", obj{"query": `query Viewer { viewer { role organizationIds } }`}, "")
	if r.status != 403 || len(r.Errors) != 1 || r.Errors[0].code() != "FORBIDDEN" {
		t.Errorf("a document outside the manifest: got %d %s %+v, want 403 FORBIDDEN", r.status, r.Data, r.Errors)
	}
	r = e.do(t, "POST", obj{"documentId": "sha256:" + sha256Of(`query Viewer { viewer { role } }`)}, "")
	if len(r.Errors) != 1 || r.Errors[0].code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Errorf("a documentId outside the manifest: got %d %s %+v, want PERSISTED_QUERY_NOT_FOUND", r.status, r.Data, r.Errors)
	}
}
