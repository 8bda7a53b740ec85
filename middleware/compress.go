package middleware

import (
	"net/http"

	"github.com/klauspost/compress/gzhttp"
)

// compressMinSize is the smallest answer compressed: below about 1 KB the encoding's framing
// and CPU cost more than the bytes saved.
const compressMinSize = 1024

// Compress encodes answers of compressMinSize bytes or more with gzip or zstd, whichever the
// client's Accept-Encoding prefers, with github.com/klauspost/compress/gzhttp; smaller
// answers, clients that accept neither, and content that is compressed already (images,
// archives) are sent as they are. It adds Vary: Accept-Encoding.
//
// When both are equally accepted ("gzip, deflate, br, zstd", as browsers and several HTTP
// clients list what they know of) the answer is gzip, which every client decodes: a header
// listing zstd is not proof of a zstd decoder (Node 20's fetch, which Node tools such as
// GraphQL Codegen use, hands a zstd body on undecoded when a caller sets that list), and zstd
// sends as many bytes as gzip here for about 1 ms less CPU on the largest page
// (BENCHMARKS.md). A higher q-value for zstd still gets zstd.
//
// It goes outside Request: the status recorder then wraps gzhttp's writer, which buffers
// the first compressMinSize bytes to decide and implements Flush and Unwrap, so a handler's
// http.ResponseController reaches the connection through both. Headers set before the first
// write (Content-Type, X-Request-Id, the drain's Connection: close) are kept.
func Compress(next http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(compressMinSize), gzhttp.EnableZstd(true), gzhttp.PreferZstd(false))
	if err != nil {
		panic(err) // the options are constant
	}
	return wrap(next)
}
