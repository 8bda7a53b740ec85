package middleware_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portfolio-graph/portfolio-graph/middleware"
)

// What StrictJSON lets through, encoding/json (the transport's decoder) reads one way only:
// one value with nothing after it, and a request object whose keys differ ignoring case. It
// never panics.
func FuzzStrictJSON(f *testing.F) {
	for _, s := range []string{
		`{"query": "{ a }"}`, `{"query": "{ a }", "QUERY": "x"}`, `{"query": "{ a }"} 1`, `{"variables": {"a": 1, "a": 2}}`,
		`{"ſ": 1, "S": 2}`, "{\"q\": \"\xff\"}", `[{"a":1},{"a":1}]`, `{"a": {"b": [1, {"c": 1, "c": 2}]}}`, `{`, `{"a":1,}`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	h := middleware.StrictJSON(next)
	f.Fuzz(func(t *testing.T, body []byte) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body)))
		switch w.Code {
		case http.StatusBadRequest:
			if msg := w.Body.String(); !strings.Contains(msg, "twice") && !strings.Contains(msg, "read as one key") && !strings.Contains(msg, "more after") {
				t.Fatalf("refused for another reason: %s", msg)
			}
			return
		case 299:
		default:
			t.Fatalf("status %d", w.Code)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		var v any
		if err := dec.Decode(&v); err != nil {
			return // not JSON: the transport refuses it
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("passed with more after the value: %q", body)
		}
		keys := topLevelKeys(body)
		for i := range keys {
			for j := range i {
				if strings.EqualFold(keys[i], keys[j]) {
					t.Fatalf("passed with keys %q and %q: %q", keys[j], keys[i], body)
				}
			}
		}
	})
}

// topLevelKeys lists the keys of a top-level object as encoding/json reads them.
func topLevelKeys(body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return keys
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}
