package middleware

import (
	"context"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/portfolio-graph/portfolio-graph/graph"
	"github.com/portfolio-graph/portfolio-graph/observe"
)

// Trace gives each request a server span, the child of the caller's W3C traceparent when it
// sends one, so that the spans of its operation and SQL statements join the caller's trace.
// Health checks get none. It goes outside Request, whose access log line names the trace.
//
// Without a tracer provider (tracing off) no span is made: the caller's traceparent, when
// sent, is only read, so that the access log still names the caller's trace.
func Trace(tp trace.TracerProvider, next http.Handler) http.Handler {
	if tp == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Traceparent") != "" {
				r = r.WithContext(observe.Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header)))
			}
			next.ServeHTTP(w, r)
		})
	}
	return otelhttp.NewHandler(next, "",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(observe.Propagator),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()), // metrics are Prometheus's
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" && r.URL.Path != "/readyz" }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + route(r.URL.Path) }),
	)
}

// route is a path as a span names it: the endpoints by their path, the console and
// playground by their prefix, so that span names stay few.
func route(path string) string {
	switch {
	case path == "/query" || path == "/healthz" || path == "/readyz":
		return path
	case strings.HasPrefix(path, "/console/"):
		return "/console/"
	case strings.HasPrefix(path, "/playground/"):
		return "/playground/"
	}
	return "/"
}

// traceID is the id of the trace the request of ctx belongs to, or "".
func traceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}

// annotateSpan puts on the request's span what the access log learns: its id, operation and
// error codes. It costs nothing when the span is not recorded.
func annotateSpan(ctx context.Context, info *graph.RequestInfo, errCodes []string) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attribute.String("request.id", info.ID))
	if info.OperationType != "" {
		span.SetAttributes(attribute.String("graphql.operation.type", info.OperationType),
			attribute.String("graphql.operation.name", shorten(info.Operation)))
	}
	if len(errCodes) > 0 {
		span.SetAttributes(attribute.StringSlice("graphql.error.codes", errCodes))
		if graph.ServerFault(errCodes) {
			// otelhttp marks a 5xx; a 200 carrying an internal error is a fault too.
			span.SetStatus(codes.Error, "the answer carries "+observe.Outcome(errCodes))
		}
	}
}
