package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// CountStatement records one SQL statement sent for the request of ctx, if any.
func CountStatement(ctx context.Context) {
	if info := RequestInfoFrom(ctx); info != nil {
		info.statements.Add(1)
	}
}

// Statements is the number of SQL statements sent for the request so far.
func (i *RequestInfo) Statements() int64 { return i.statements.Load() }

// ServerFault reports whether codes hold an error of the server's making (internal, or the
// database unavailable), which marks a span as failed; errors in the request are only listed.
func ServerFault(codes []string) bool {
	return slices.Contains(codes, string(models.ErrInternal)) || slices.Contains(codes, string(models.ErrServiceUnavailable))
}

// maxSpanName bounds the operation name in a span's name: names come from clients.
const maxSpanName = 64

// operationOf is the name and type of the operation chosen: the operation's own name when the
// request did not name it (a document with one named operation).
func operationOf(oc *graphql.OperationContext) (name, typ string) {
	name = oc.OperationName
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
		if name == "" {
			name = oc.Operation.Name
		}
	}
	return name, typ
}

// operationSpans gives every operation a span named by its type and name ("query Cards"),
// child of the request's span, parent of its SQL statements' spans, with the error codes of its
// answer. Fields get no span of their own: a page of 500 customers with their accounts would
// make thousands, and the statements already show where the time goes.
type operationSpans struct{ tracer trace.Tracer }

func (operationSpans) ExtensionName() string                   { return "OperationSpans" }
func (operationSpans) Validate(graphql.ExecutableSchema) error { return nil }

func (o operationSpans) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	name, typ := operationOf(graphql.GetOperationContext(ctx))
	spanName := typ
	if name != "" {
		spanName += " " + truncate(name, maxSpanName)
	}
	ctx, span := o.tracer.Start(ctx, spanName, trace.WithAttributes(
		attribute.String("graphql.operation.type", typ),
		attribute.String("graphql.operation.name", truncate(name, maxSpanName)),
	))
	if id := RequestIDFrom(ctx); id != "" {
		span.SetAttributes(attribute.String("request.id", id))
	}
	respond := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := respond(ctx)
		if resp != nil && len(resp.Errors) > 0 {
			var errCodes []string
			for _, e := range resp.Errors {
				if c, _ := e.Extensions["code"].(string); c != "" && !slices.Contains(errCodes, c) {
					errCodes = append(errCodes, c)
				}
			}
			span.SetAttributes(attribute.StringSlice("graphql.error.codes", errCodes))
			if ServerFault(errCodes) {
				span.SetStatus(codes.Error, "the answer carries a server error")
			}
		}
		span.End()
		return resp
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
