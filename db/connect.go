package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// While PostgreSQL cannot be reached, every request that needs a connection would dial it
// again: at a few thousand requests a second that is a connection storm against a server that
// is restarting. The gate sits between database/sql and pgx's connector. The first failed
// connection attempt closes it; while it is closed, new connections fail at once with
// errDatabaseDown (SERVICE_UNAVAILABLE for the request), and one goroutine alone dials again,
// after probeMinWait, then twice as long each time up to probeMaxWait. Its first success
// opens the gate again. Connections already pooled are not touched: they keep serving if they
// still can (a refused new connection, such as 53300 too many connections, does not mean the
// others are dead).
//
// So while the database is down the server makes at most 1/probeMaxWait connection attempts a
// second (10), answers at once, and serves again at most probeMaxWait after the database is
// back.
const (
	probeMinWait = 25 * time.Millisecond
	probeMaxWait = 100 * time.Millisecond
	probeTimeout = 5 * time.Second
)

// errDatabaseDown is what a new connection gets while the gate is closed.
type errDatabaseDown struct{ cause error }

func (e *errDatabaseDown) Error() string {
	return "the database is unreachable (failing fast until it answers): " + e.cause.Error()
}
func (e *errDatabaseDown) Unwrap() error { return e.cause }

// gate is a driver.Connector that fails fast while the database is down (see above).
type gate struct {
	inner driver.Connector
	log   *slog.Logger

	mu     sync.Mutex
	down   error     // the failure that closed the gate; nil while it is open
	since  time.Time // when it closed
	closed bool      // the store is closed: no more probing

	attempts atomic.Uint64 // connection attempts made, the probe's included
	stop     chan struct{}
	// quiet leaves the telling to the caller: a command that opens the store once reports
	// its failure itself, and retries nothing.
	quiet bool
}

func newGate(inner driver.Connector, log *slog.Logger) *gate {
	return &gate{inner: inner, log: log, stop: make(chan struct{})}
}

func (g *gate) Driver() driver.Driver { return g.inner.Driver() }

// Connect dials through the inner connector while the gate is open.
func (g *gate) Connect(ctx context.Context) (driver.Conn, error) {
	if err := g.Down(); err != nil {
		return nil, err
	}
	g.attempts.Add(1)
	c, err := g.inner.Connect(ctx)
	if err != nil && ctx.Err() == nil {
		g.trip(err)
	}
	return c, err
}

// Down returns errDatabaseDown while the gate is closed, else nil.
func (g *gate) Down() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.down == nil {
		return nil
	}
	return &errDatabaseDown{cause: g.down}
}

// trip closes the gate after a failed attempt, and starts the probe.
func (g *gate) trip(cause error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.down != nil || g.closed {
		return
	}
	g.down, g.since = cause, time.Now()
	go g.probe()
	if g.quiet {
		return
	}
	g.log.Warn("database unreachable: new connections fail at once while one connection is retried with backoff",
		"err", safeError(cause), "max_wait", probeMaxWait)
}

// probe dials with backoff until a connection succeeds, then opens the gate.
func (g *gate) probe() {
	wait := probeMinWait
	for {
		select {
		case <-g.stop:
			return
		case <-time.After(wait):
		}
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		g.attempts.Add(1)
		c, err := g.inner.Connect(ctx)
		cancel()
		if err == nil {
			_ = c.Close()
			g.mu.Lock()
			down := time.Since(g.since)
			g.down = nil
			g.mu.Unlock()
			if !g.quiet {
				g.log.Info("database reachable again", "down_for", down.Round(time.Millisecond))
			}
			return
		}
		g.mu.Lock()
		g.down = err
		g.mu.Unlock()
		wait = min(2*wait, probeMaxWait)
	}
}

// close stops the probe.
func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed = true
		close(g.stop)
	}
}

// connectError is a failed first connection, on one line (pgx writes each address it tried
// on a line of its own).
type connectError struct{ err error }

func (e *connectError) Error() string { return "connect to the database: " + safeError(e.err) }
func (e *connectError) Unwrap() error { return e.err }

// isDown reports whether err comes from a closed gate.
func isDown(err error) bool {
	var d *errDatabaseDown
	return errors.As(err, &d)
}

// ConnectAttempts counts the connections this store has tried to open to PostgreSQL (0 on
// SQLite): the pool's and the probe's.
func (s *Store) ConnectAttempts() uint64 {
	if s.gate == nil {
		return 0
	}
	return s.gate.attempts.Load()
}
