// Package inflight bounds what the server holds at once across all its requests: the bytes of
// request bodies read into memory, and the ingest inputs being decoded into Go values. Every
// request has its own limits (the body size, the batch size); these bound how many requests
// spend them at the same time. A request that cannot have its share waits a short time, then
// is refused, and its handler answers 503 SERVICE_UNAVAILABLE with Retry-After.
package inflight

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// ErrBusy is the refusal of a request that did not get its share in time.
var ErrBusy = errors.New("the server is busy with other large requests")

// Limit is a quantity shared by all requests: bytes, or decodes. Shares are handed out first
// come, first served.
type Limit struct {
	sem  *semaphore.Weighted
	size int64
	wait time.Duration

	mu      sync.Mutex
	held    int64 // handed out and not released
	peak    int64 // the most held since held was last 0
	onDrain func(peak int64)
}

// New returns a limit of size units for which a request waits at most wait.
func New(size int64, wait time.Duration) *Limit {
	return &Limit{sem: semaphore.NewWeighted(size), size: size, wait: wait}
}

// Size is the whole of the limit.
func (l *Limit) Size() int64 { return l.size }

// OnDrain sets a function run, in a goroutine of its own, each time nothing is held any more,
// with the most that was held since the last time.
func (l *Limit) OnDrain(fn func(peak int64)) { l.onDrain = fn }

// Acquire takes n units, waiting for them at most the limit's wait (less when ctx ends
// first). It returns ErrBusy, having taken nothing, when they did not come in time.
func (l *Limit) Acquire(ctx context.Context, n int64) error {
	if n > l.size {
		return ErrBusy // would never come
	}
	if !l.sem.TryAcquire(n) {
		ctx, cancel := context.WithTimeout(ctx, l.wait)
		defer cancel()
		if err := l.sem.Acquire(ctx, n); err != nil {
			return ErrBusy
		}
	}
	l.mu.Lock()
	l.held += n
	l.peak = max(l.peak, l.held)
	l.mu.Unlock()
	return nil
}

// Release gives back n units taken by Acquire.
func (l *Limit) Release(n int64) {
	if n == 0 {
		return
	}
	l.mu.Lock()
	l.held -= n
	peak := l.peak
	drained := l.held == 0
	if drained {
		l.peak = 0
	}
	l.mu.Unlock()
	l.sem.Release(n)
	if drained && l.onDrain != nil {
		go l.onDrain(peak)
	}
}

// RetryAfter is the Retry-After header of a refusal: the wait, in whole seconds (at least 1).
func (l *Limit) RetryAfter() string {
	return strconv.Itoa(max(1, int((l.wait+time.Second-1)/time.Second)))
}
