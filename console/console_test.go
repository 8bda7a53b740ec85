package console

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func TestEveryViewPathServesIndex(t *testing.T) {
	h := Handler()
	for _, path := range []string{"/console/", "/console/cards?last4=2345&iin=123456", "/console/customers/DEMO-C000001", "/console/customers/a%2Fb", "/console/dashboard?org=50001", "/console/no/such/view"} {
		res := get(t, h, http.MethodGet, path)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `<main id="main"`) {
			t.Errorf("%s: %d, want index.html", path, res.StatusCode)
		}
		for k, want := range map[string]string{
			"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"Cache-Control":           "no-cache",
			"Content-Type":            "text/html; charset=utf-8",
		} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
	}
}

func TestAssetsAreCachedAndMissingOnesAreNotFound(t *testing.T) {
	h := Handler()
	assets, err := fs.Glob(dist, "dist/assets/*")
	if err != nil || len(assets) < 2 {
		t.Fatalf("built assets: %v %v", assets, err)
	}
	for _, a := range assets {
		path := "/console/" + strings.TrimPrefix(a, "dist/")
		res := get(t, h, http.MethodGet, path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", path, got)
		}
		ct := res.Header.Get("Content-Type")
		if !(strings.HasSuffix(a, ".js") && strings.HasPrefix(ct, "text/javascript")) && !(strings.HasSuffix(a, ".css") && strings.HasPrefix(ct, "text/css")) {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no Content-Security-Policy", path)
		}
	}
	for _, path := range []string{"/console/assets/missing.js", "/console/assets/"} {
		if res := get(t, h, http.MethodGet, path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404 (a missing asset is not a page of the app)", path, res.StatusCode)
		}
	}
}

func TestIndexHasNoInlineCode(t *testing.T) {
	index, err := fs.ReadFile(dist, "dist/index.html")
	if err != nil {
		t.Fatal(err)
	}
	s := string(index)
	for _, bad := range []string{"<script>", "<style", " style=", " onclick=", " onload=", "http://", "https://"} {
		if strings.Contains(s, bad) {
			t.Errorf("index.html contains %q: the Content-Security-Policy forbids inline code and other origins", bad)
		}
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	h := Handler()
	if res := get(t, h, http.MethodHead, "/console/cards"); res.StatusCode != http.StatusOK {
		t.Errorf("HEAD: %d", res.StatusCode)
	}
	res := get(t, h, http.MethodPost, "/console/cards")
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
}
