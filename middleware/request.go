package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/portfolio-graph/portfolio-graph/graph"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// Request gives each request an id (the caller's X-Request-Id when it sends a short one) and
// a time limit, which cancels its SQL, and logs it when it ends: one line with its id, trace
// id, operation, status, error codes, duration, SQL statements and response bytes.
func Request(timeout time.Duration, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := &graph.RequestInfo{ID: r.Header.Get("X-Request-Id"), Start: time.Now()}
		if info.ID == "" || len(info.ID) > 64 {
			info.ID = newRequestID()
		}
		w.Header().Set("X-Request-Id", info.ID)
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		ctx = graph.WithRequestInfo(ctx, info)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK, info: info}
		next.ServeHTTP(rec, r.WithContext(ctx))
		codes := info.Codes()
		annotateSpan(r.Context(), info, codes)
		log.LogAttrs(r.Context(), accessLevel(r.URL.Path, rec.status, codes), "request",
			slog.String("id", info.ID), slog.String("trace_id", traceID(r.Context())),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("operation", shorten(info.Operation)),
			slog.String("operation_type", info.OperationType), slog.String("executor", info.Executor),
			slog.Int("status", rec.status), slog.String("codes", strings.Join(codes, ",")),
			slog.Duration("duration", time.Since(info.Start).Round(time.Microsecond)),
			slog.Int64("sql_statements", info.Statements()), slog.Int64("bytes", rec.bytes))
	})
}

// accessLevel is the level of a request's access log line: ERROR when the answer carries an
// internal error (a bug or an unknown store failure, detailed in the log under the same id),
// DEBUG for health checks, WARN for a 5xx other than 503, INFO otherwise. An answer that
// carries SERVICE_UNAVAILABLE, or is a 503, is INFO: its cause (the database down, a full
// disk) is logged by the store once per cause and interval, not once per request.
func accessLevel(path string, status int, codes []string) slog.Level {
	switch {
	case slices.Contains(codes, string(models.ErrInternal)):
		return slog.LevelError
	case path == "/healthz" || path == "/readyz":
		return slog.LevelDebug
	case status == http.StatusServiceUnavailable || slices.Contains(codes, string(models.ErrServiceUnavailable)):
		return slog.LevelInfo
	case status >= 500:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// RetryAfter is the Retry-After header of every 503 the edge answers: the seconds a client
// should wait before it sends the request again.
const RetryAfter = "5"

// statusRecorder remembers the status a handler wrote, for the access log, turns a GraphQL
// answer that could serve no data because the database was unavailable into HTTP 503, and
// gives every 503 a Retry-After header.
type statusRecorder struct {
	http.ResponseWriter
	info   *graph.RequestInfo
	status int
	wrote  bool
	bytes  int64 // of the body written
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.wrote {
		return
	}
	if code == http.StatusOK && s.info.Unavailable {
		code = http.StatusServiceUnavailable
	}
	if code == http.StatusServiceUnavailable && s.Header().Get("Retry-After") == "" {
		s.Header().Set("Retry-After", RetryAfter)
	}
	s.status, s.wrote = code, true
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// addCode records the code of an error the edge answers with itself.
func (s *statusRecorder) addCode(code models.ErrorCode) { s.info.AddCode(string(code)) }

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

var requestSeq atomic.Uint64

// newRequestID returns a short id unique within the process and across restarts.
func newRequestID() string {
	return strconv.FormatInt(time.Now().UnixMilli(), 36) + "-" + strconv.FormatUint(requestSeq.Add(1), 36)
}
