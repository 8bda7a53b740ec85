package db

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// fakeTimers stands for time.AfterFunc: the test ends intervals itself.
type fakeTimers struct{ pending []func() }

func (ft *fakeTimers) after(_ time.Duration, f func()) func() bool {
	i := len(ft.pending)
	ft.pending = append(ft.pending, f)
	return func() bool { ft.pending[i] = nil; return true }
}

// fire ends the interval scheduled i-th.
func (ft *fakeTimers) fire(t *testing.T, i int) {
	t.Helper()
	f := ft.pending[i]
	if f == nil {
		t.Fatalf("timer %d was stopped", i)
	}
	ft.pending[i] = nil
	f()
}

func testCauseLog() (*causeLog, *fakeTimers, *bytes.Buffer) {
	var buf bytes.Buffer
	c := newCauseLog(slog.New(slog.NewTextHandler(&buf, nil)))
	ft := &fakeTimers{}
	c.after = ft.after
	return c, ft, &buf
}

// lines are the log lines that contain every one of marks.
func lines(buf *bytes.Buffer, marks ...string) []string {
	var out []string
	for l := range strings.Lines(buf.String()) {
		all := true
		for _, m := range marks {
			all = all && strings.Contains(l, m)
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}

var (
	errFull    = errors.New("database or disk is full (13)")
	errRefused = errors.New("dial tcp: connection refused")
)

// A cause is logged once when it shows, its repeats as one count at the end of the interval;
// an interval without repeats closes it, and it is logged again when it comes back. Closing the
// store logs the count so far.
func TestCauseLog(t *testing.T) {
	c, ft, buf := testCauseLog()
	for range 5 {
		c.note("SQLITE_FULL", faultFull, errFull)
	}
	c.note("connection refused", "the database is unavailable", errRefused)
	first := func(cause string) []string {
		return lines(buf, "level=WARN", `msg="database unavailable"`, "cause="+cause)
	}
	repeated := func(cause string) []string {
		return lines(buf, "level=WARN", `msg="database unavailable, repeated"`, "cause="+cause)
	}
	if got := first("SQLITE_FULL"); len(got) != 1 || !strings.Contains(got[0], `reason="the database cannot write: disk full" err="database or disk is full (13)"`) {
		t.Fatalf("first lines of SQLITE_FULL: %q", got)
	}
	if len(first(`"connection refused"`)) != 1 || len(ft.pending) != 2 {
		t.Fatalf("want one line and one interval per cause:\n%s", buf)
	}

	ft.fire(t, 0) // SQLITE_FULL: 4 repeats
	if got := repeated("SQLITE_FULL"); len(got) != 1 || !strings.Contains(got[0], "repeats=4 within=10s") {
		t.Fatalf("count line: %q\n%s", got, buf)
	}
	ft.fire(t, 1) // connection refused: no repeat, closed
	c.note("connection refused", "the database is unavailable", errRefused)
	if got := first(`"connection refused"`); len(got) != 2 {
		t.Errorf("a cause back after a quiet interval: %d first lines, want 2\n%s", len(got), buf)
	}
	ft.fire(t, 2) // SQLITE_FULL's second interval: no repeat, closed
	if len(repeated("SQLITE_FULL")) != 1 {
		t.Errorf("an interval without repeats logged a count:\n%s", buf)
	}
	c.note("SQLITE_FULL", faultFull, errFull)
	c.note("SQLITE_FULL", faultFull, errFull)
	c.note("SQLITE_FULL", faultFull, errFull)
	if len(first("SQLITE_FULL")) != 2 {
		t.Errorf("want SQLITE_FULL logged anew:\n%s", buf)
	}

	c.flush()
	if got := repeated("SQLITE_FULL"); len(got) != 2 || !strings.Contains(got[1], "repeats=2") {
		t.Errorf("flush: %q", got)
	}
	for i, f := range ft.pending {
		if f != nil {
			t.Errorf("timer %d still pending after flush", i)
		}
	}
	if n := len(lines(buf, "msg=")); n != 6 {
		t.Errorf("%d lines, want 6:\n%s", n, buf)
	}
}
