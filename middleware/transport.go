package middleware

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/portfolio-graph/portfolio-graph/inflight"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// CheckTransport answers, with a coded error, what the GraphQL transports would refuse without
// one: a method other than GET, POST and OPTIONS (405), a POST body that is not JSON (415),
// and a mutation sent with GET (405: GET may not change data).
func CheckTransport(maxTokens int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodOptions:
		case http.MethodPost:
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeError(w, http.StatusUnsupportedMediaType, models.ErrBadUserInput, "send the request as Content-Type: application/json")
				return
			}
		case http.MethodGet:
			// Only a document naming another operation type can be refused here; any other is
			// parsed once, by the executor (and its parsed-query cache).
			query := r.URL.Query().Get("query")
			if !strings.Contains(query, "mutation") && !strings.Contains(query, "subscription") {
				break
			}
			doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, maxTokens)
			if err == nil {
				if op := doc.Operations.ForName(r.URL.Query().Get("operationName")); op != nil && op.Operation != ast.Query {
					w.Header().Set("Allow", "POST")
					writeError(w, http.StatusMethodNotAllowed, models.ErrBadUserInput, "GET may only run queries: send a "+string(op.Operation)+" with POST")
					return
				}
			}
		default:
			w.Header().Set("Allow", "GET, POST, OPTIONS")
			writeError(w, http.StatusMethodNotAllowed, models.ErrBadUserInput, "use POST (or GET for queries)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ReadBody reads a request's body up to max bytes, answering 413 PAYLOAD_TOO_LARGE beyond
// that, so that what follows works on a body held in memory.
//
// With bodies set, a body of more than smallBody bytes holds its bytes of that limit, shared by
// all requests, until its request is answered: its declared length before any of it is read,
// or, sent without one (chunked), what has been read so far, taken as it comes. A body that
// cannot have them within the limit's wait is answered 503 SERVICE_UNAVAILABLE with
// Retry-After, unread. Smaller bodies (queries) are never held back behind large ones.
func ReadBody(max int64, bodies *inflight.Limit, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			payloadTooLarge(w, max)
			return
		}
		share := &bodyShare{limit: bodies, ctx: r.Context(), max: max}
		defer share.release()
		if r.ContentLength > smallBody && !share.hold(r.ContentLength) {
			busy(w, bodies)
			return
		}
		var src io.Reader = http.MaxBytesReader(w, r.Body, max)
		if r.ContentLength < 0 && bodies != nil {
			src = &heldReader{r: src, share: share}
		}
		body, err := readBody(src, r.ContentLength)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			payloadTooLarge(w, max)
			return
		case errors.Is(err, inflight.ErrBusy):
			busy(w, bodies)
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, models.ErrBadUserInput, "the request body could not be read")
			return
		}
		sent := r.Body
		r.Body = &memBody{Reader: bytes.NewReader(body), raw: body}
		next.ServeHTTP(w, r)
		r.Body = sent // the body read is garbage once answered, before its bytes are released
	})
}

// smallBody is the largest body that holds nothing of the bodies in flight.
const smallBody = 64 << 10

// bodyShare is what one body holds of the bodies in flight.
type bodyShare struct {
	limit *inflight.Limit
	ctx   context.Context
	max   int64 // the body limit
	held  int64
}

// hold raises what the body holds to n bytes, reporting false when they did not come in time.
func (s *bodyShare) hold(n int64) bool {
	if s.limit == nil || n <= s.held {
		return true
	}
	if s.limit.Acquire(s.ctx, n-s.held) != nil {
		return false
	}
	s.held = n
	return true
}

func (s *bodyShare) release() {
	if s.limit != nil {
		s.limit.Release(s.held)
	}
}

// heldReader makes a body sent without a declared length hold what has been read of it, once
// that is more than smallBody: at least twice what it held before, as the buffer it is read
// into grows, up to the body limit.
type heldReader struct {
	r     io.Reader
	share *bodyShare
	read  int64
}

func (h *heldReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.read += int64(n)
	if h.read > smallBody && h.read > h.share.held && !h.share.hold(min(max(h.read, 2*h.share.held), h.share.max)) {
		return n, inflight.ErrBusy
	}
	return n, err
}

// busy refuses a request that could not have its share of what the server holds at once.
func busy(w http.ResponseWriter, l *inflight.Limit) {
	w.Header().Set("Retry-After", l.RetryAfter())
	writeError(w, http.StatusServiceUnavailable, models.ErrServiceUnavailable,
		"the server is reading as many large request bodies as it holds at once; retry after the seconds Retry-After gives")
}

// memBody is a body ReadBody holds in memory, so that the checks after it need not copy it.
type memBody struct {
	*bytes.Reader
	raw []byte
}

func (*memBody) Close() error { return nil }

// Bytes is the whole body, for the handlers after the edge to read without copying it; they
// must not modify it.
func (b *memBody) Bytes() []byte { return b.raw }

// readBody reads a body, sized at once for the declared length up to preallocBody: a
// declared length is only a claim, whose bytes may never come.
func readBody(body io.Reader, length int64) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(max(length, 512), preallocBody)))
	_, err := buf.ReadFrom(body)
	return buf.Bytes(), err
}

// preallocBody is the most readBody sets aside before the bytes arrive.
const preallocBody = 64 << 10

// bodyBytes returns r's whole body, leaving r.Body to be read again from its start.
func bodyBytes(r *http.Request) ([]byte, error) {
	if b, ok := r.Body.(*memBody); ok {
		return b.raw, nil
	}
	raw, err := io.ReadAll(r.Body)
	r.Body = &memBody{Reader: bytes.NewReader(raw), raw: raw}
	return raw, err
}

func payloadTooLarge(w http.ResponseWriter, max int64) {
	writeError(w, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", fmt.Sprintf("the request body is larger than %d bytes", max))
}

// writeError answers with one GraphQL error and no data.
func writeError(w http.ResponseWriter, status int, code models.ErrorCode, msg string) {
	if rec, ok := w.(interface{ addCode(models.ErrorCode) }); ok {
		rec.addCode(code) // for the access log
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message": msg, "extensions": map[string]any{"code": string(code)},
	}}})
}
