package middleware

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Drain is the server going away. Once started, /readyz answers 503 so that load balancers
// stop routing here, and every answer carries Connection: close, so that clients holding a
// kept-alive connection open a new one, to another instance, for their next request, instead
// of sending it on a connection the server is about to close.
//
// It also follows the server's connections (ConnState), so that the server can close its
// listener and wait for every accepted connection to be answered before http.Server.Shutdown:
// Shutdown drops, unanswered, a request read after it began, even on a connection accepted
// before.
type Drain struct {
	on   atomic.Bool
	mu   sync.Mutex
	busy map[net.Conn]bool // new (first request not read yet) or serving a request
}

// Start begins draining; it cannot be undone.
func (d *Drain) Start() { d.on.Store(true) }

// Draining reports whether Start was called.
func (d *Drain) Draining() bool { return d.on.Load() }

// Handler adds Connection: close to every answer while draining; net/http then closes the
// connection after the answer is written.
func (d *Drain) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Draining() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// ConnState is the http.Server.ConnState hook that follows connections.
func (d *Drain) ConnState(c net.Conn, state http.ConnState) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy == nil {
		d.busy = map[net.Conn]bool{}
	}
	switch state {
	case http.StateNew, http.StateActive:
		d.busy[c] = true
	default:
		delete(d.busy, c)
	}
}

// Wait returns once no connection is new or serving a request, or when ctx ends. Call it
// after closing the listener: a new connection's first request is then bounded by the
// server's ReadHeaderTimeout, and a request by its time limit.
func (d *Drain) Wait(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		d.mu.Lock()
		n := len(d.busy)
		d.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
