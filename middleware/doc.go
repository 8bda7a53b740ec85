// Package middleware is the HTTP edge in front of the GraphQL handler: request ids and time
// limits, the checks the GraphQL transports would answer without a code (method, content
// type), authentication of the bearer token, the body limit and the bytes of bodies in flight,
// refusing JSON that could be read two ways, the access log, draining on shutdown, request
// spans and request metrics. CORS, compression and security headers belong here too.
//
// Each middleware is an http.Handler wrapping the next one; server.go composes them. Every
// refusal is a GraphQL-shaped answer with one coded error and no data, so clients handle an
// edge refusal exactly like an error from the executor.
package middleware
