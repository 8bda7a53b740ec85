package middleware

import (
	"runtime"
	"strings"
	"testing"
)

// A declared length is a claim: readBody sets aside at most preallocBody before the bytes
// arrive, so headers claiming 16 MiB cost 64 KiB until the bytes come.
func TestReadBodyDoesNotTrustTheDeclaredLength(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b, err := readBody(strings.NewReader(`{"query":"{ __typename }"}`), 16<<20)
	runtime.ReadMemStats(&after)
	if err != nil || string(b) != `{"query":"{ __typename }"}` {
		t.Fatalf("readBody = %q, %v", b, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("reading 26 bytes declared as 16 MiB allocated %d bytes", n)
	}
}
