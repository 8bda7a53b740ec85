package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portfolio-graph/portfolio-graph/graph"
)

func sha256Of(doc string) string {
	sum := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(sum[:])
}

// persistedQuery is the APQ extension naming a document by its hash.
func persistedQuery(hash string) obj {
	return obj{"persistedQuery": obj{"version": 1, "sha256Hash": hash}}
}

// do sends a GraphQL request over POST (body) or GET (params), with e's token and accept.
func (e *env) do(t *testing.T, method string, request obj, accept string) gqlResponse {
	t.Helper()
	var req *http.Request
	if method == http.MethodGet {
		q := url.Values{}
		for k, v := range request {
			if s, ok := v.(string); ok {
				q.Set(k, s)
			} else {
				q.Set(k, jsonString(v))
			}
		}
		req = must(http.NewRequest(method, e.url+"/query?"+q.Encode(), nil))
	} else {
		req = must(http.NewRequest(method, e.url+"/query", strings.NewReader(jsonString(request))))
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	return decodeResponse(t, must(http.DefaultClient.Do(req)))
}

// Automatic persisted queries: a hash the server does not know is PERSISTED_QUERY_NOT_FOUND;
// sent once with its text, the hash alone then runs the document, over POST and GET.
func TestAutomaticPersistedQueries(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, many(2, "O1")...)
		doc := `query Ids { customers(first: 5) { nodes { sourceCustomerId } } }`
		hash := sha256Of(doc)
		want := `{"customers":{"nodes":[{"sourceCustomerId":"C0000"},{"sourceCustomerId":"C0001"}]}}`

		r := e.do(t, http.MethodPost, obj{"extensions": persistedQuery(hash)}, "")
		if r.status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].code() != "PERSISTED_QUERY_NOT_FOUND" || r.Errors[0].Message != "PersistedQueryNotFound" || r.Data != nil {
			t.Fatalf("unknown hash (application/json): got %d %s %+v", r.status, r.Data, r.Errors)
		}
		r = e.do(t, http.MethodGet, obj{"extensions": persistedQuery(hash)}, "application/graphql-response+json")
		if r.status != http.StatusBadRequest || len(r.Errors) != 1 || r.Errors[0].code() != "PERSISTED_QUERY_NOT_FOUND" || r.Data != nil {
			t.Fatalf("unknown hash (graphql-response+json): got %d %s %+v", r.status, r.Data, r.Errors)
		}

		r = e.do(t, http.MethodPost, obj{"query": doc, "extensions": persistedQuery(hash)}, "")
		if r.status != http.StatusOK || len(r.Errors) > 0 || string(r.Data) != want {
			t.Fatalf("text and hash: got %d %s %+v", r.status, r.Data, r.Errors)
		}
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			r = e.do(t, method, obj{"extensions": persistedQuery(hash)}, "")
			if r.status != http.StatusOK || len(r.Errors) > 0 || string(r.Data) != want {
				t.Errorf("%s by hash: got %d %s %+v", method, r.status, r.Data, r.Errors)
			}
		}
		// documentId (GraphQL over HTTP's persisted documents) names the same cache entry.
		r = e.do(t, http.MethodPost, obj{"documentId": "sha256:" + hash}, "")
		if r.status != http.StatusOK || len(r.Errors) > 0 || string(r.Data) != want {
			t.Errorf("documentId: got %d %s %+v", r.status, r.Data, r.Errors)
		}
		if r = e.do(t, http.MethodPost, obj{"documentId": "Ids"}, ""); r.status != http.StatusBadRequest || r.Errors[0].code() != "BAD_USER_INPUT" {
			t.Errorf("documentId that is no hash: got %d %+v", r.status, r.Errors)
		}

		r = e.do(t, http.MethodPost, obj{"query": `{ viewer { role } }`, "extensions": persistedQuery(hash)}, "")
		if len(r.Errors) != 1 || r.Errors[0].code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "hash does not match") {
			t.Errorf("text with another's hash: got %d %s %+v", r.status, r.Data, r.Errors)
		}

		// A persisted mutation stays POST only.
		mutation := `mutation { deleteCustomer(sourceCustomerId: "nobody") { deletedId } }`
		e.do(t, http.MethodPost, obj{"query": mutation, "extensions": persistedQuery(sha256Of(mutation))}, "")
		r = e.do(t, http.MethodGet, obj{"extensions": persistedQuery(sha256Of(mutation))}, "")
		if r.status != http.StatusMethodNotAllowed || len(r.Errors) != 1 || r.Errors[0].code() != "BAD_USER_INPUT" {
			t.Errorf("mutation by hash over GET: got %d %s %+v", r.status, r.Data, r.Errors)
		}
	})
}

// With a trusted documents manifest, a reader runs the manifest's documents by hash
// (persistedQuery or documentId) or by their exact text, and nothing else (403 FORBIDDEN); an
// admin runs anything.
func TestTrustedDocuments(t *testing.T) {
	listed := `query Ids { customers(first: 5) { nodes { sourceCustomerId } } }`
	other := `query Other { customers(first: 5) { nodes { sourceCustomerId country } } }`
	for _, format := range []string{"map", "codegen", "apollo"} {
		manifest := jsonString(obj{sha256Of(listed): listed})
		if format == "codegen" { // GraphQL Codegen's client preset: the ids as its documentId
			manifest = jsonString(obj{"sha256:" + sha256Of(listed): listed})
		}
		if format == "apollo" {
			manifest = jsonString(obj{"format": "apollo-persisted-query-manifest", "version": 1, "operations": []obj{
				{"id": sha256Of(listed), "body": listed, "name": "Ids", "type": "query"},
			}})
		}
		file := filepath.Join(t.TempDir(), "manifest.json")
		if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Run(format, func(t *testing.T) {
			forEachStoreWith(t, func(c *config) {
				withAuth(c)
				c.trustedDocs = must(graph.LoadTrustedDocuments(file))
			}, func(t *testing.T, e *env) {
				e.token = token(t, "admin", "*")
				e.mustIngest(t, many(2, "O1")...)
				want := `{"customers":{"nodes":[{"sourceCustomerId":"C0000"},{"sourceCustomerId":"C0001"}]}}`

				e.token = token(t, "reader", "O1")
				for name, req := range map[string]obj{
					"text":        {"query": listed},
					"hash":        {"extensions": persistedQuery(sha256Of(listed))},
					"documentId":  {"documentId": sha256Of(listed)},
					"text + hash": {"query": listed, "extensions": persistedQuery(sha256Of(listed))},
				} {
					for _, method := range []string{http.MethodPost, http.MethodGet} {
						if r := e.do(t, method, req, ""); r.status != http.StatusOK || len(r.Errors) > 0 || string(r.Data) != want {
							t.Errorf("reader, listed document by %s over %s: got %d %s %+v", name, method, r.status, r.Data, r.Errors)
						}
					}
				}
				for _, accept := range []string{"", "application/graphql-response+json"} {
					r := e.do(t, http.MethodPost, obj{"query": other}, accept)
					if r.status != http.StatusForbidden || len(r.Errors) != 1 || r.Errors[0].code() != "FORBIDDEN" ||
						!strings.Contains(r.Errors[0].Message, "not trusted") || r.Data != nil {
						t.Errorf("reader, other text (Accept %q): got %d %s %+v", accept, r.status, r.Data, r.Errors)
					}
				}
				r := e.do(t, http.MethodPost, obj{"query": other, "extensions": persistedQuery(sha256Of(other))}, "")
				if r.status != http.StatusForbidden || r.Errors[0].code() != "FORBIDDEN" {
					t.Errorf("reader, registering another document: got %d %+v", r.status, r.Errors)
				}

				// The admin runs anything, and registers it in the APQ cache...
				e.token = token(t, "admin", "*")
				if r := e.do(t, http.MethodPost, obj{"query": other, "extensions": persistedQuery(sha256Of(other))}, ""); r.status != http.StatusOK || len(r.Errors) > 0 {
					t.Errorf("admin, other text: got %d %s %+v", r.status, r.Data, r.Errors)
				}
				if r := e.do(t, http.MethodPost, obj{"documentId": sha256Of(listed)}, ""); r.status != http.StatusOK || string(r.Data) != want {
					t.Errorf("admin, listed document by hash: got %d %s %+v", r.status, r.Data, r.Errors)
				}
				// ...which does not make it trusted for the reader.
				e.token = token(t, "reader", "O1")
				r = e.do(t, http.MethodPost, obj{"extensions": persistedQuery(sha256Of(other))}, "")
				if r.status != http.StatusOK || len(r.Errors) != 1 || r.Errors[0].code() != "PERSISTED_QUERY_NOT_FOUND" || r.Data != nil {
					t.Errorf("reader, hash of an untrusted document the admin ran: got %d %s %+v", r.status, r.Data, r.Errors)
				}
			})
		})
	}
}

// A server started with the manifest GraphQL Codegen's client preset writes
// (testdata/persisted-documents-codegen.json: {"sha256:<hex>": "<document>"}) runs its
// documents for a reader by documentId, as Codegen's clients send them, and nothing else.
func TestTrustedDocumentsCodegenManifest(t *testing.T) {
	const file = "testdata/persisted-documents-codegen.json"
	var manifest map[string]string
	if err := json.Unmarshal(readFile(t, file), &manifest); err != nil || len(manifest) != 2 {
		t.Fatalf("%s: %v, %d documents", file, err, len(manifest))
	}
	ids := map[string]string{} // operation name -> documentId
	for id, doc := range manifest {
		if id != "sha256:"+sha256Of(doc) {
			t.Fatalf("%s: the id %s is not \"sha256:\" and the SHA-256 of its document", file, id)
		}
		ids[strings.Fields(doc[strings.Index(doc, "query "):])[1]] = id
	}
	base := runServer(t, "-trusted-documents", file, "-auth-jwt-secret", testSecret, "-auth-jwt-issuer", "issuer", "-auth-jwt-audience", "portfolio-graph")
	e := &env{url: base, token: token(t, "reader", "O1")}
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		r := e.do(t, method, obj{"documentId": ids["Viewer"]}, "")
		if want := `{"viewer":{"organizationIds":["O1"],"role":"READER"}}`; r.status != http.StatusOK || len(r.Errors) > 0 || string(r.Data) != want {
			t.Errorf("Viewer by documentId over %s: got %d %s %+v, want %s", method, r.status, r.Data, r.Errors, want)
		}
	}
	r := e.do(t, http.MethodPost, obj{"documentId": ids["CustomerCards($first:"], "variables": obj{"first": 2}}, "")
	if r.status != http.StatusOK || len(r.Errors) > 0 || !strings.HasPrefix(string(r.Data), `{"customers":{"nodes":[]`) {
		t.Errorf("CustomerCards by documentId: got %d %s %+v", r.status, r.Data, r.Errors)
	}
	r = e.do(t, http.MethodPost, obj{"query": `{ viewer { role } }`}, "")
	if r.status != http.StatusForbidden || len(r.Errors) != 1 || r.Errors[0].code() != "FORBIDDEN" {
		t.Errorf("a document outside the manifest: got %d %s %+v", r.status, r.Data, r.Errors)
	}
}

// A malformed manifest stops start-up with a message naming the file and the problem.
func TestTrustedDocumentsManifestErrors(t *testing.T) {
	doc := `{ viewer { role } }`
	cases := map[string]struct{ text, want string }{
		"not JSON":      {`{"a":`, "not a JSON object"},
		"empty":         {`{}`, "lists no document"},
		"not a string":  {`{"` + sha256Of(doc) + `": 1}`, "must be a string"},
		"wrong hash":    {jsonString(obj{sha256Of("x"): doc}), "is not the SHA-256 of its document"},
		"not a hash":    {jsonString(obj{"Viewer": doc}), "not a SHA-256"},
		"upper case":    {jsonString(obj{"sha256:" + strings.ToUpper(sha256Of(doc)): doc}), "not a SHA-256"},
		"other prefix":  {jsonString(obj{"sha1:" + sha256Of(doc): doc}), "not a SHA-256"},
		"no parse":      {jsonString(obj{sha256Of("{ viewer "): "{ viewer "}), "does not parse"},
		"apollo format": {`{"format": "apollo-persisted-query-manifest", "version": 2, "operations": []}`, "version 1"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "manifest.json")
			if err := os.WriteFile(file, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			code := run(t.Context(), []string{"-listen", "127.0.0.1:0", "-database-url", filepath.Join(dir, "x.db"), "-trusted-documents", file}, &stderr, &stderr)
			if code != 1 || !strings.Contains(stderr.String(), c.want) || !strings.Contains(stderr.String(), file) {
				t.Errorf("exit %d, want 1 and %q naming the file in:\n%s", code, c.want, stderr.String())
			}
		})
	}
	var stderr strings.Builder
	if code := run(t.Context(), []string{"-listen", "127.0.0.1:0", "-trusted-documents", filepath.Join(t.TempDir(), "missing.json")}, &stderr, &stderr); code != 1 || !strings.Contains(stderr.String(), "no such file") {
		t.Errorf("missing manifest: exit %d:\n%s", code, stderr.String())
	}
}
