package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/portfolio-graph/portfolio-graph/middleware"
)

// rawClient sends Accept-Encoding only when told and never decodes: the test sees the bytes
// on the wire.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

// An allowed origin gets the CORS headers on the preflight (answered before authentication)
// and on the request itself; another origin gets none; with no list, no answer has any.
func TestCORS(t *testing.T) {
	const allowed = "https://app.example.com"
	send := func(t *testing.T, e *env, method, origin string) *http.Response {
		t.Helper()
		req := must(http.NewRequest(method, e.url+"/query", strings.NewReader(`{"query": "{ viewer { role } }"}`)))
		req.Header.Set("Origin", origin)
		if method == http.MethodOptions {
			req.Header.Set("Access-Control-Request-Method", "POST")
			req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		} else {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token(t, "reader", "O1"))
		}
		resp := must(http.DefaultClient.Do(req))
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	corsHeaders := func(h http.Header) []string {
		var names []string
		for k := range h {
			if strings.HasPrefix(k, "Access-Control-") {
				names = append(names, k)
			}
		}
		return names
	}

	e := newEnv(t, "sqlite", func(c *config) {
		withAuth(c)
		c.corsOrigins = must(middleware.ParseOrigins(" " + allowed + ", http://localhost:5173"))
	})
	pre := send(t, e, http.MethodOptions, allowed)
	h := pre.Header
	if pre.StatusCode >= 300 || h.Get("Access-Control-Allow-Origin") != allowed || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") ||
		!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") ||
		h.Get("Access-Control-Max-Age") != "600" || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("preflight from %s: %d %v", allowed, pre.StatusCode, h)
	}
	post := send(t, e, http.MethodPost, allowed)
	if post.StatusCode != http.StatusOK || post.Header.Get("Access-Control-Allow-Origin") != allowed ||
		!strings.Contains(post.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
		t.Errorf("request from %s: %d %v", allowed, post.StatusCode, post.Header)
	}
	for _, method := range []string{http.MethodOptions, http.MethodPost} {
		if resp := send(t, e, method, "https://evil.example.com"); len(corsHeaders(resp.Header)) > 0 {
			t.Errorf("%s from another origin: %v", method, resp.Header)
		}
	}

	e = newEnv(t, "sqlite", withAuth)
	for _, method := range []string{http.MethodOptions, http.MethodPost} {
		if resp := send(t, e, method, allowed); len(corsHeaders(resp.Header)) > 0 {
			t.Errorf("%s without an allowed list: %v", method, resp.Header)
		}
	}

	for _, bad := range []string{"app.example.com", "https://app.example.com/path", "ftp://x", "https://"} {
		if _, err := middleware.ParseOrigins(bad); err == nil {
			t.Errorf("ParseOrigins(%q) accepted it", bad)
		}
	}
}

// A large answer is compressed (gzip or zstd, as Accept-Encoding asks; gzip when both are
// equally accepted) and decodes to the same JSON as the identity answer; a small one, or one to a client that accepts no encoding, is
// not. While draining, a compressed answer still carries Connection: close.
func TestCompression(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.mustIngest(t, many(40, "O1")...)
		large := `{"query": "{ customers(first: 40) { nodes { sourceCustomerId country postalCode accounts { sourceAccountId cards { last4 iin } } } } }"}`
		small := `{"query": "{ viewer { role } }"}`
		post := func(url, body, encoding string) (*http.Response, []byte) {
			t.Helper()
			req := must(http.NewRequest(http.MethodPost, url+"/query", strings.NewReader(body)))
			req.Header.Set("Content-Type", "application/json")
			if encoding != "" {
				req.Header.Set("Accept-Encoding", encoding)
			}
			resp := must(rawClient.Do(req))
			defer resp.Body.Close()
			return resp, must(io.ReadAll(resp.Body))
		}
		plain, identity := post(e.url, large, "")
		if plain.Header.Get("Content-Encoding") != "" || len(identity) < 2048 || !bytes.HasPrefix(identity, []byte(`{"data":{"customers"`)) {
			t.Fatalf("no Accept-Encoding: %v, %d bytes: %.200s", plain.Header, len(identity), identity)
		}
		decoders := map[string]func([]byte) ([]byte, error){
			"gzip": func(b []byte) ([]byte, error) {
				r, err := gzip.NewReader(bytes.NewReader(b))
				if err != nil {
					return nil, err
				}
				return io.ReadAll(r)
			},
			"zstd": func(b []byte) ([]byte, error) {
				d, err := zstd.NewReader(nil)
				if err != nil {
					return nil, err
				}
				defer d.Close()
				return d.DecodeAll(b, nil)
			},
		}
		for _, c := range []struct{ accept, want string }{{"gzip", "gzip"}, {"zstd", "zstd"}, {"gzip, deflate, br, zstd", "gzip"}, {"zstd, gzip", "gzip"}, {"gzip;q=1, zstd;q=0.5", "gzip"}, {"gzip;q=0.5, zstd", "zstd"}} {
			resp, body := post(e.url, large, c.accept)
			if got := resp.Header.Get("Content-Encoding"); got != c.want || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q (%v)", c.accept, got, c.want, resp.Header)
				continue
			}
			decoded, err := decoders[c.want](body)
			if err != nil || !bytes.Equal(decoded, identity) {
				t.Errorf("Accept-Encoding %q: %d bytes decode to %d (%v), not the identity answer", c.accept, len(body), len(decoded), err)
			}
			if len(body)*3 > len(identity) {
				t.Errorf("Accept-Encoding %q: %d bytes compressed to %d", c.accept, len(identity), len(body))
			}
		}
		if resp, body := post(e.url, small, "gzip, zstd"); resp.Header.Get("Content-Encoding") != "" || !bytes.Contains(body, []byte(`"role":"ADMIN"`)) {
			t.Errorf("small answer: %v %s", resp.Header, body)
		}

		drain := &middleware.Drain{}
		drain.Start()
		srv := httptest.NewServer(newDrainingHandler(e.store, e.cfg, nil, slog.New(slog.DiscardHandler), false, drain, nil))
		defer srv.Close()
		resp, body := post(srv.URL, large, "gzip")
		if resp.Header.Get("Content-Encoding") != "gzip" || !resp.Close {
			t.Errorf("draining: Content-Encoding %q, Connection close %v", resp.Header.Get("Content-Encoding"), resp.Close)
		} else if decoded, err := decoders["gzip"](body); err != nil || !bytes.Equal(decoded, identity) {
			t.Errorf("draining: the answer does not decode to the identity answer (%v)", err)
		}
	})
}
