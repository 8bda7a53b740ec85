package middleware

import (
	"net/http"
	"strings"

	"github.com/portfolio-graph/portfolio-graph/auth"
	"github.com/portfolio-graph/portfolio-graph/graph"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// Authenticate puts the request's caller in its context: the one its bearer token names, or
// in open mode (no verifier) an admin of every organization. A request without a valid token
// is answered 401 UNAUTHENTICATED without running anything. This is the only place a caller
// is set: a path that skips it sees nothing.
func Authenticate(verifier *auth.Verifier, next http.Handler) http.Handler {
	if verifier == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(graph.WithCaller(r.Context(), graph.OpenCaller())))
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		// The scheme's name is case-insensitive (RFC 7235): Bearer, bearer, BEARER.
		scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		if token = strings.TrimSpace(token); !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			unauthenticated(w, "a bearer token is required: Authorization: Bearer <JWT>")
			return
		}
		id, err := verifier.Verify(token)
		if err != nil {
			unauthenticated(w, err.Error())
			return
		}
		subject := id.Subject
		caller := graph.Caller{Subject: &subject, Role: id.Role, Scope: id.Scope}
		next.ServeHTTP(w, r.WithContext(graph.WithCaller(r.Context(), caller)))
	})
}

func unauthenticated(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="portfolio-graph"`)
	writeError(w, http.StatusUnauthorized, models.ErrUnauthenticated, msg)
}

// AdminOnly lets only admins (every caller in open mode) through to next, as introspection
// does; another caller is answered 403 FORBIDDEN with msg. It goes behind Authenticate.
func AdminOnly(msg string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if graph.CallerFrom(r.Context()).Role != models.RoleAdmin {
			writeError(w, http.StatusForbidden, models.ErrForbidden, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}
