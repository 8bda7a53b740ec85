package observe

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Propagator reads and writes W3C trace context (traceparent, tracestate).
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Tracing is the process's tracer provider: spans exported over OTLP/HTTP when the standard
// variables name an endpoint, else none at all.
type Tracing struct {
	provider *sdktrace.TracerProvider // nil when off
}

// TracingEnabled reports whether the environment asks for traces: OTEL_EXPORTER_OTLP_ENDPOINT
// or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, and neither OTEL_SDK_DISABLED=true nor
// OTEL_TRACES_EXPORTER=none says otherwise.
func TracingEnabled() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") || os.Getenv("OTEL_TRACES_EXPORTER") == "none" {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// NewTracing sets up tracing from the environment. The exporter reads its own variables
// (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS, _TIMEOUT, _COMPRESSION, _CERTIFICATE...),
// the provider OTEL_TRACES_SAMPLER[_ARG], the resource OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES. Only the http/protobuf protocol is built in: another one is a
// configuration error rather than traces silently lost.
func NewTracing(ctx context.Context, version string) (*Tracing, error) {
	if !TracingEnabled() {
		return &Tracing{}, nil
	}
	for _, key := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := os.Getenv(key); p != "" && p != "http/protobuf" {
			return nil, fmt.Errorf("%s=%s: only http/protobuf is supported", key, p)
		}
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	return NewTracingWith(ctx, sdktrace.NewBatchSpanProcessor(exp), version)
}

// NewTracingWith is tracing through a span processor of the caller's (a recorder in tests).
func NewTracingWith(ctx context.Context, sp sdktrace.SpanProcessor, version string) (*Tracing, error) {
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("portfolio-graph"), semconv.ServiceVersion(version)),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	return &Tracing{provider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sp), sdktrace.WithResource(res))}, nil
}

// Provider is the tracer provider, or nil when tracing is off: callers then add no
// instrumentation at all, rather than calling a no-op provider on every request.
func (t *Tracing) Provider() trace.TracerProvider {
	if t == nil || t.provider == nil {
		return nil
	}
	return t.provider
}

// Shutdown exports the spans still buffered and stops the exporter, within ctx.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil || t.provider == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}
