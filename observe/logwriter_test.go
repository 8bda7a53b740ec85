package observe

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the flushing goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Lines at INFO wait for the next flush; a warning goes out at once with what came before it;
// Close writes out the rest; nothing is lost or reordered.
func TestLogWriter(t *testing.T) {
	var out syncBuffer
	w := NewLogWriter(&out, time.Hour) // no periodic flush within the test
	log := slog.New(FlushingHandler(slog.NewTextHandler(w, nil), w)).With("svc", "x")
	log.Info("one")
	log.Info("two")
	if got := out.String(); got != "" {
		t.Fatalf("INFO lines were written before a flush: %q", got)
	}
	log.Warn("three")
	if got := out.String(); strings.Count(got, "\n") != 3 || !strings.Contains(got, "msg=one") || !strings.Contains(got, "msg=three svc=x") {
		t.Fatalf("after a warning: %q", got)
	}
	log.Info("four")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if i, j := strings.Index(got, "msg=three"), strings.Index(got, "msg=four"); strings.Count(got, "\n") != 4 || i < 0 || j < i {
		t.Fatalf("after Close: %q", got)
	}
	// After Close, lines go out as they come, and Close may be called again.
	log.Info("five")
	if got := out.String(); !strings.Contains(got, "msg=five") {
		t.Fatalf("a line after Close was kept: %q", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// The periodic flush writes out lines without a warning.
func TestLogWriterFlushesPeriodically(t *testing.T) {
	var out syncBuffer
	w := NewLogWriter(&out, 10*time.Millisecond)
	defer w.Close()
	_, _ = w.Write([]byte("line\n"))
	deadline := time.Now().Add(5 * time.Second)
	for out.String() == "" {
		if time.Now().After(deadline) {
			t.Fatal("the line was never written")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
