package inflight

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Shares are taken and given back; one that does not come within the wait is ErrBusy, at once
// when it is larger than the whole; OnDrain hears, once nothing is held, the most that was.
func TestLimit(t *testing.T) {
	l := New(10, 20*time.Millisecond)
	drained := make(chan int64, 4)
	l.OnDrain(func(peak int64) { drained <- peak })
	ctx := context.Background()
	if err := l.Acquire(ctx, 6); err != nil {
		t.Fatal(err)
	}
	if err := l.Acquire(ctx, 4); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := l.Acquire(ctx, 1); !errors.Is(err, ErrBusy) {
		t.Errorf("beyond the limit: %v, want ErrBusy", err)
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Errorf("refused after %v, before the wait was over", waited)
	}
	if err := l.Acquire(ctx, 11); !errors.Is(err, ErrBusy) {
		t.Errorf("larger than the limit: %v, want ErrBusy", err)
	}
	l.Release(4)
	select {
	case p := <-drained:
		t.Fatalf("drained with 6 still held (peak %d)", p)
	case <-time.After(10 * time.Millisecond):
	}
	if err := l.Acquire(ctx, 3); err != nil {
		t.Fatalf("once 4 are back: %v", err)
	}
	l.Release(3)
	l.Release(6)
	if p := <-drained; p != 10 {
		t.Errorf("drained after a peak of %d, want 10", p)
	}
	if err := l.Acquire(ctx, 2); err != nil {
		t.Fatal(err)
	}
	l.Release(2)
	if p := <-drained; p != 2 {
		t.Errorf("the next drain saw a peak of %d, want 2", p)
	}
	for wait, want := range map[time.Duration]string{20 * time.Millisecond: "1", 2 * time.Second: "2", 2500 * time.Millisecond: "3"} {
		if got := New(1, wait).RetryAfter(); got != want {
			t.Errorf("Retry-After for a wait of %v: %q, want %q", wait, got, want)
		}
	}
}
