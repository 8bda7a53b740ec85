package db

import (
	"log/slog"
	"sync"
	"time"
)

// causeInterval is how long the cause log stays quiet about a cause it has just logged.
const causeInterval = 10 * time.Second

// causeLog logs why the store answers SERVICE_UNAVAILABLE, once per cause and interval instead
// of once per request: a cause seen for the first time is logged at once, at WARN; its repeats
// within the interval are counted, and logged as one line with the count when the interval
// ends, which opens the next interval. An interval without repeats closes the cause: its next
// occurrence is logged as new. A cause is a key (SQLSTATE, SQLite code, network error) with a
// caller-safe reason and the driver's error without the values it quotes (safeError).
type causeLog struct {
	log      *slog.Logger
	interval time.Duration
	// after runs f once d has passed and returns a function that cancels it (time.AfterFunc;
	// tests run f themselves).
	after func(d time.Duration, f func()) (stop func() bool)

	mu   sync.Mutex
	open map[string]*causeWindow
}

type causeWindow struct {
	repeats int
	stop    func() bool
}

func newCauseLog(log *slog.Logger) *causeLog {
	return &causeLog{log: log, interval: causeInterval, open: map[string]*causeWindow{},
		after: func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }}
}

// note records one occurrence of a cause, which err shows.
func (c *causeLog) note(cause, reason string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.open[cause]; w != nil {
		w.repeats++
		return
	}
	c.log.Warn("database unavailable", "cause", cause, "reason", reason, "err", safeError(err))
	w := &causeWindow{}
	c.open[cause] = w
	w.stop = c.after(c.interval, func() { c.tick(cause, w) })
}

// tick ends an interval of a cause.
func (c *causeLog) tick(cause string, w *causeWindow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[cause] != w {
		return // flushed meanwhile
	}
	if w.repeats == 0 {
		delete(c.open, cause)
		return
	}
	c.log.Warn("database unavailable, repeated", "cause", cause, "repeats", w.repeats, "within", c.interval)
	w.repeats = 0
	w.stop = c.after(c.interval, func() { c.tick(cause, w) })
}

// flush logs the repeats counted so far and closes every cause, when the store closes.
func (c *causeLog) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for cause, w := range c.open {
		w.stop()
		if w.repeats > 0 {
			c.log.Warn("database unavailable, repeated", "cause", cause, "repeats", w.repeats)
		}
		delete(c.open, cause)
	}
}
