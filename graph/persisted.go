package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// apqCacheSize bounds the documents automatic persisted queries remember (least recently
// used first out). A document is at most -max-query-tokens tokens.
const apqCacheSize = 1000

// usePersisted adds trusted documents (when a manifest is configured) and automatic persisted
// queries, in that order, before the document is parsed: a hash is looked up in the manifest
// first, then in the APQ cache.
func usePersisted(srv configurable, opt Options) {
	if opt.Trusted != nil {
		srv.Use(trustedDocuments{opt.Trusted})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](apqCacheSize)})
}

// TrustedDocuments is a manifest of the operations non-admin callers may run, by the SHA-256
// of their text (hex, lower case).
type TrustedDocuments struct {
	docs map[string]string
}

// Len is the number of documents in the manifest.
func (t *TrustedDocuments) Len() int { return len(t.docs) }

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// LoadTrustedDocuments reads a manifest of trusted documents, in either of two formats:
//
//   - a JSON object mapping each document's id to its text, as GraphQL Codegen's persisted
//     documents (client preset, persistedDocuments) write it, the id being the document's
//     SHA-256 prefixed with "sha256:" as Codegen writes it, or bare:
//     {"sha256:<sha256>": "query Q { ... }", ...} or {"<sha256>": "query Q { ... }", ...};
//   - Apollo's persisted query manifest (@apollo/generate-persisted-query-manifest):
//     {"format": "apollo-persisted-query-manifest", "version": 1,
//     "operations": [{"id": "<sha256>", "body": "query Q { ... }", "name": "Q", "type": "query"}]}.
//
// Every id must be the SHA-256 of its document's text (so that a document is the same sent by
// hash or by text) and every document must parse; anything else is an error naming the entry.
func LoadTrustedDocuments(path string) (*TrustedDocuments, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("trusted documents: %w", err)
	}
	docs, err := parseManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("trusted documents %s: %w", path, err)
	}
	return &TrustedDocuments{docs: docs}, nil
}

func parseManifest(raw []byte) (map[string]string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	docs := map[string]string{}
	add := func(where, id, body string) error {
		hash := strings.TrimPrefix(id, "sha256:")
		if !sha256Hex.MatchString(hash) {
			return fmt.Errorf("%s: the id %q is not a SHA-256 in lower-case hex, bare or prefixed with \"sha256:\"", where, id)
		}
		id = hash
		if sum := sha256.Sum256([]byte(body)); hex.EncodeToString(sum[:]) != id {
			return fmt.Errorf("%s: the id %s is not the SHA-256 of its document", where, id)
		}
		if _, err := parser.ParseQuery(&ast.Source{Input: body}); err != nil {
			return fmt.Errorf("%s: the document does not parse: %v", where, err)
		}
		docs[id] = body
		return nil
	}
	if _, ok := top["format"]; ok {
		var m struct {
			Format     string `json:"format"`
			Version    int    `json:"version"`
			Operations []struct {
				ID   string `json:"id"`
				Body string `json:"body"`
			} `json:"operations"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("not an Apollo persisted query manifest: %w", err)
		}
		if m.Format != "apollo-persisted-query-manifest" || m.Version != 1 {
			return nil, fmt.Errorf("format %q version %d: only apollo-persisted-query-manifest version 1 is known", m.Format, m.Version)
		}
		for i, op := range m.Operations {
			if err := add(fmt.Sprintf("operations[%d]", i), op.ID, op.Body); err != nil {
				return nil, err
			}
		}
	} else {
		for id, v := range top {
			var body string
			if err := json.Unmarshal(v, &body); err != nil {
				return nil, fmt.Errorf("%q: the document must be a string", id)
			}
			if err := add(fmt.Sprintf("%q", id), id, body); err != nil {
				return nil, err
			}
		}
	}
	if len(docs) == 0 {
		return nil, errors.New("the manifest lists no document: no non-admin caller could run anything")
	}
	return docs, nil
}

// trustedDocuments lets non-admin callers run only the manifest's documents, sent by hash
// (extensions.persistedQuery.sha256Hash, or documentId) or as text whose SHA-256 is listed.
// Admins may run anything; a hash of the manifest runs for them too.
type trustedDocuments struct{ t *TrustedDocuments }

func (trustedDocuments) ExtensionName() string                   { return "TrustedDocuments" }
func (trustedDocuments) Validate(graphql.ExecutableSchema) error { return nil }

func (d trustedDocuments) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	admin := CallerFrom(ctx).Role == models.RoleAdmin
	if p.Query == "" {
		hash := persistedHash(p)
		if doc, ok := d.t.docs[hash]; ok {
			p.Query = doc
			return nil
		}
		if admin || hash == "" {
			return nil // the APQ cache, or the transport's missing query
		}
		// Not the APQ cache: an admin may have put any document there.
		err := gqlerror.Errorf("PersistedQueryNotFound")
		errcode.Set(err, "PERSISTED_QUERY_NOT_FOUND")
		return err
	}
	if admin {
		return nil
	}
	if sum := sha256.Sum256([]byte(p.Query)); d.t.docs[hex.EncodeToString(sum[:])] == "" {
		return &gqlerror.Error{
			Message:    "this document is not trusted: only the operations of the trusted documents manifest may run, by their hash (documentId or extensions.persistedQuery.sha256Hash) or their exact text",
			Extensions: map[string]any{"code": string(models.ErrForbidden)},
		}
	}
	return nil
}

// persistedHash is the request's extensions.persistedQuery.sha256Hash, or "".
func persistedHash(p *graphql.RawParams) string {
	pq, _ := p.Extensions["persistedQuery"].(map[string]any)
	h, _ := pq["sha256Hash"].(string)
	return h
}
