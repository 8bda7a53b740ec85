package observe

import (
	"fmt"
	"sync"
	"testing"
)

func TestOperationNamesAreBounded(t *testing.T) {
	names := NewOperationNames(3)
	for _, c := range []struct{ name, want string }{
		{"", OtherOperation},
		{"Cards", "Cards"},
		{"Customer", "Customer"},
		{"Cards", "Cards"},
		{"Dashboard", "Dashboard"},
		{"Fourth", OtherOperation},
		{"Customer", "Customer"},
		{string(make([]byte, maxNameLength+1)), OtherOperation},
	} {
		if got := names.Label(c.name); got != c.want {
			t.Errorf("Label(%.20q) = %q, want %q", c.name, got, c.want)
		}
	}
}

// Concurrent requests never give more names than the bound a value of their own.
func TestOperationNamesBoundUnderConcurrency(t *testing.T) {
	names := NewOperationNames(10)
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		wg   sync.WaitGroup
	)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				l := names.Label(fmt.Sprintf("Op%d", (i*7+g)%40))
				mu.Lock()
				seen[l] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	delete(seen, OtherOperation)
	if len(seen) != 10 {
		t.Errorf("%d names kept a label of their own, want 10: %v", len(seen), seen)
	}
}
