package middleware

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/cors"
)

// corsMaxAge is how long, in seconds, a browser may reuse a preflight's answer (Chromium caps
// it at 2 hours, Firefox at 24).
const corsMaxAge = 600

// ParseOrigins reads a comma-separated list of origins (scheme://host[:port], or * for any),
// refusing anything else: an origin never has a path, and a typo would silently allow nothing.
func ParseOrigins(list string) ([]string, error) {
	var out []string
	for o := range strings.SplitSeq(list, ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
				(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
				return nil, fmt.Errorf("CORS_ALLOWED_ORIGINS: %q is not an origin like https://app.example.com", o)
			}
			o = u.Scheme + "://" + u.Host
		}
		out = append(out, o)
	}
	return out, nil
}

// CORS lets pages of the allowed origins call next from a browser (github.com/rs/cors):
// preflights are answered here, before authentication, allowing GET and POST with the
// Authorization and Content-Type headers, cached for corsMaxAge; answers to the allowed
// origins carry Access-Control-Allow-Origin and expose X-Request-Id. Credentials (cookies)
// are not allowed: the API takes bearer tokens. With no origin, next is returned as it is and
// no answer carries a CORS header.
func CORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Authorization", "Content-Type"},
		ExposedHeaders: []string{"X-Request-Id"},
		MaxAge:         corsMaxAge,
	}).Handler(next)
}
