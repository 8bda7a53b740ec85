package middleware

import (
	"errors"
	"net/http"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// Available answers 503 SERVICE_UNAVAILABLE, with Retry-After, while ready returns an error:
// the server is up but its store has not started yet (the database has not answered, or the
// demo data is loading).
func Available(ready func() error, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ready(); err != nil {
			msg := err.Error()
			var coded *models.Error
			if errors.As(err, &coded) {
				msg = coded.Message // the cause, with the database's address, is for /readyz and the log
			}
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, models.ErrServiceUnavailable, "the server is starting: "+msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}
