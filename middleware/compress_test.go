package middleware

import (
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A handler behind Compress and Request can flush through http.ResponseController (the status
// recorder unwraps to gzhttp's writer): the client reads the first part, compressed, before
// the handler writes the rest.
func TestCompressFlushesThroughTheRecorder(t *testing.T) {
	first := strings.Repeat(`{"part":1}`, 200)
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, first)
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		<-release
		_, _ = io.WriteString(w, "end")
	})
	srv := httptest.NewServer(Compress(Request(time.Minute, slog.New(slog.DiscardHandler), h)))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("X-Request-Id") == "" {
		t.Fatalf("headers: %v", resp.Header)
	}
	zr, err := gzip.NewReader(resp.Body) // reads the gzip header: the flush reached the client
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(first))
	if _, err := io.ReadFull(zr, got); err != nil || string(got) != first {
		t.Fatalf("first part before the rest was written: %v", err)
	}
	close(release)
	rest, _ := io.ReadAll(zr)
	if string(rest) != "end" {
		t.Errorf("rest: %q", rest)
	}
}
