// Package console serves the web console: a TypeScript single-page application built into
// dist/ (see package.json) and embedded in the binary, so serving it needs nothing but Go.
// The console reads the data only through the public GraphQL API, with the person's own
// token.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Prefix is the path the console is served under.
const Prefix = "/console/"

// csp allows the console's own scripts, styles and API calls and nothing else: no inline code,
// no other origin, no framing.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Handler serves the console under Prefix: the built assets under /console/assets/ (content-
// hashed names, cached for a year) and index.html for every other path, so each view's URL
// (/console/customers/ID, /console/cards?last4=…) can be bookmarked and loaded directly.
func Handler() http.Handler {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embedded tree always has dist/
	}
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic("console: dist/index.html is missing; run npm run build in console/")
	}
	sum := sha256.Sum256(index)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rel := strings.TrimPrefix(path.Clean(r.URL.Path), strings.TrimSuffix(Prefix, "/"))
		if rel == "/assets" || strings.HasPrefix(rel, "/assets/") {
			name := strings.TrimPrefix(rel, "/")
			if st, err := fs.Stat(files, name); err != nil || st.IsDir() {
				http.NotFound(w, r) // a missing asset is an error, not a page of the app
				return
			}
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
			http.ServeFileFS(w, r, files, name)
			return
		}
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		h.Set("Content-Type", "text/html; charset=utf-8")
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
	})
}
