package middleware_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/portfolio-graph/portfolio-graph/middleware"
)

// Before the drain a kept-alive connection is reused; once it starts, every answer closes its
// connection, and Wait returns once no connection is serving a request.
func TestDrain(t *testing.T) {
	d := &middleware.Drain{}
	srv := httptest.NewUnstartedServer(d.Handler(&reached{}))
	srv.Config.ConnState = d.ConnState
	srv.Start()
	defer srv.Close()
	client := srv.Client()
	get := func() *http.Response {
		t.Helper()
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get(); resp.Close || d.Draining() {
		t.Fatalf("before the drain: Connection: close %v, draining %v", resp.Close, d.Draining())
	}
	d.Start()
	for range 3 {
		if resp := get(); !resp.Close {
			t.Errorf("while draining: the answer did not say Connection: close")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Wait(ctx); err != nil {
		t.Errorf("Wait: %v (connections still busy after their answers)", err)
	}
}
