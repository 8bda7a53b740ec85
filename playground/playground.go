// Package playground serves GraphiQL entirely from the binary: the page, its bootstrap script
// and the pinned GraphiQL and React builds (assets/, fetched from npm by update.sh) are
// embedded, so the playground works on a machine without internet and no request of the page
// leaves the server's origin.
package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed assets page
var files embed.FS

// assetPrefix is where the assets are served; a hash of their contents follows it, so that a
// URL always names the same bytes and browsers may keep them for good.
const assetPrefix = "/playground/"

// contentSecurityPolicy allows the page to load scripts, styles and data from its own origin
// only. Fonts and icons are data: URLs inside GraphiQL's stylesheet; no inline script runs.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; font-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var pageTemplate = template.Must(template.ParseFS(files, "page/index.html"))

// Handler serves the playground page at / with title, sending its queries to endpoint, and
// its assets under /playground/<version>/. Mount it on "/": any other path is 404, and any
// method but GET and HEAD 405.
func Handler(title, endpoint string) http.Handler {
	assets := map[string][]byte{}
	sum := sha256.New()
	for _, dir := range []string{"assets", "page"} {
		entries, err := fs.ReadDir(files, dir)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		for _, e := range entries {
			if e.Name() == "index.html" {
				continue
			}
			b, err := fs.ReadFile(files, dir+"/"+e.Name())
			if err != nil {
				panic(err)
			}
			assets[e.Name()] = b
			sum.Write([]byte(e.Name()))
			sum.Write(b)
		}
	}
	base := assetPrefix + hex.EncodeToString(sum.Sum(nil))[:16]

	var page bytes.Buffer
	if err := pageTemplate.Execute(&page, struct{ Title, Endpoint, Base string }{title, endpoint, base}); err != nil {
		panic(err)
	}
	index := page.Bytes()

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch {
		case r.URL.Path == "/":
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Cache-Control", "no-cache")
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(index))
		case strings.HasPrefix(r.URL.Path, base+"/"):
			name := strings.TrimPrefix(r.URL.Path, base+"/")
			b, ok := assets[name]
			if !ok {
				http.NotFound(w, r)
				return
			}
			h.Set("Content-Type", contentType(name))
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
		default:
			http.NotFound(w, r)
		}
	})
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	default: // licences and VERSIONS
		return "text/plain; charset=utf-8"
	}
}
