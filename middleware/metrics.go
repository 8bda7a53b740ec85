package middleware

import (
	"net/http"
	"time"

	"github.com/portfolio-graph/portfolio-graph/graph"
	"github.com/portfolio-graph/portfolio-graph/observe"
)

// Metrics counts each GraphQL request by operation, type and outcome, with its latency and
// SQL statements, once it is answered. It goes inside Request (which it reads) and outside
// every check of the GraphQL endpoint, so that a request refused at the edge counts its code.
// Without metrics it is not there at all.
func Metrics(m *observe.Metrics, next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		info := graph.RequestInfoFrom(r.Context())
		if info == nil {
			return
		}
		m.Request(info.Operation, info.OperationType, info.Codes(), time.Since(info.Start), info.Statements())
	})
}
