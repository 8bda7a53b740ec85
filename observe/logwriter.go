package observe

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// LogWriter buffers log lines on their way to w: it writes them out every interval, as soon as
// a record at WARN or above is logged (through FlushingHandler), when the buffer holds
// maxLogBuffer bytes, and on Close. Written line by line to an unbuffered stderr, the access
// log cost a write system call per request, about a tenth of the CPU of a small request.
type LogWriter struct {
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	err    error // the first error writing to w, returned from then on
	closed bool  // after Close, lines go straight to w
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// maxLogBuffer is how much a LogWriter holds before it writes.
const maxLogBuffer = 64 << 10

// NewLogWriter starts a LogWriter for w that flushes every interval.
func NewLogWriter(w io.Writer, interval time.Duration) *LogWriter {
	l := &LogWriter{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = l.Flush()
			case <-l.stop:
				return
			}
		}
	}()
	return l
}

// Write keeps p (one log record) for the next flush.
func (l *LogWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return 0, l.err
	}
	l.buf = append(l.buf, p...)
	if l.closed || len(l.buf) >= maxLogBuffer {
		l.flushLocked()
	}
	return len(p), nil
}

// Flush writes out what is kept.
func (l *LogWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flushLocked()
	return l.err
}

func (l *LogWriter) flushLocked() {
	if len(l.buf) == 0 || l.err != nil {
		return
	}
	_, l.err = l.w.Write(l.buf)
	l.buf = l.buf[:0]
}

// Close stops the periodic flush and writes out what is kept; lines written after it (a
// request still finishing, a goroutine of the store) go straight to w. A second Close does
// nothing more.
func (l *LogWriter) Close() error {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.flushLocked()
	return l.err
}

// FlushingHandler is h, flushing w after every record at WARN or above, so that warnings and
// errors are out at once.
func FlushingHandler(h slog.Handler, w *LogWriter) slog.Handler {
	return flushingHandler{Handler: h, w: w}
}

type flushingHandler struct {
	slog.Handler
	w *LogWriter
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		_ = h.w.Flush()
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{Handler: h.Handler.WithAttrs(attrs), w: h.w}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{Handler: h.Handler.WithGroup(name), w: h.w}
}
