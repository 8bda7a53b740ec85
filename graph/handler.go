package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/trace"

	"github.com/portfolio-graph/portfolio-graph/db"
	"github.com/portfolio-graph/portfolio-graph/inflight"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// Options configure the GraphQL endpoint.
type Options struct {
	Store  *db.Store
	Logger *slog.Logger
	Limits Limits
	// Trusted, when set, lets non-admin callers run only its documents (see persisted.go).
	Trusted *TrustedDocuments
	// Tracer, when set, gives every operation a span (see operationSpans).
	Tracer trace.TracerProvider
	// GeneratedOnly runs every operation through gqlgen's generated executor, without the
	// direct executor of queries (direct.go).
	GeneratedOnly bool
	// GeneratedIngest unmarshals the customers of ingestCustomers through gqlgen, without
	// decoding them directly (ingest_input.go).
	GeneratedIngest bool
	// MaxIngestBatch is the store's batch limit (db.Config.MaxBatch, default 1,000): a list of
	// customers is decoded no further than that (ingest_input.go).
	MaxIngestBatch int
	// DecodesInFlight, when set, bounds the ingest requests and other large bodies being
	// decoded at once (decodesInFlight).
	DecodesInFlight *inflight.Limit
	// ReportIngest, when set, is told of each batch refused over the batch limit before it
	// reached the store, as the store's Observer.Ingest is told of the others.
	ReportIngest func(context.Context, db.IngestReport)
}

func newSchema(opt Options) graphql.ExecutableSchema {
	es := NewExecutableSchema(Config{Resolvers: &Resolver{Store: opt.Store, ReportIngest: opt.ReportIngest}, Complexity: complexity(opt.limits())})
	if opt.GeneratedOnly {
		return es
	}
	return directSchema{es.(*executableSchema)}
}

// limits are the configured limits with their defaults and the store's page sizes.
func (opt Options) limits() Limits {
	l := opt.Limits.withDefaults()
	l.defaultPage, l.maxPage = opt.Store.PageSizes()
	return l
}

// NewHandler builds the GraphQL endpoint: POST and GET (queries only) transports on top of
// the executor, behind the rewrite of invalid text (withValidText), with automatic persisted
// queries and, when configured, trusted documents.
func NewHandler(opt Options) http.Handler {
	es := newSchema(opt)
	srv := handler.New(es)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(getTransport{})
	srv.AddTransport(postTransport{})
	usePersisted(srv, opt)
	configure(srv, es, opt)
	in := ingestInput{log: opt.Logger, maxTokens: opt.limits().MaxTokens, maxBatch: opt.MaxIngestBatch, direct: !opt.GeneratedIngest}
	if in.maxBatch <= 0 {
		in.maxBatch = 1000 // the store's default
	}
	return withValidText(decodesInFlight(opt.DecodesInFlight, in.handler(srv)))
}

func newExecutor(opt Options) *executor.Executor {
	es := newSchema(opt)
	exec := executor.New(es)
	configure(exec, es, opt)
	return exec
}

// configurable is what handler.Server and executor.Executor share.
type configurable interface {
	SetQueryCache(graphql.Cache[*ast.QueryDocument])
	SetParserTokenLimit(int)
	Use(graphql.HandlerExtension)
	SetErrorPresenter(graphql.ErrorPresenterFunc)
	SetRecoverFunc(graphql.RecoverFunc)
	AroundOperations(graphql.OperationMiddleware)
	AroundResponses(graphql.ResponseMiddleware)
}

// configure adds the parsed query cache, the limits, the argument checks, the error
// presenter, panic recovery and per-operation loaders.
func configure(srv configurable, es graphql.ExecutableSchema, opt Options) {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	limits := opt.limits()
	if opt.Tracer != nil {
		srv.Use(operationSpans{tracer: opt.Tracer.Tracer("github.com/portfolio-graph/portfolio-graph/graph")})
	}
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.SetParserTokenLimit(limits.MaxTokens)
	srv.Use(introspectionForAdmins{})
	srv.Use(&inlineDefer{})
	srv.Use(validDocument{})
	switch s := srv.(type) { // the validator's rules and scalarLiterals (scalars.go)
	case *handler.Server:
		s.SetValidationRulesFn(validationRules)
	case *executor.Executor:
		s.SetDefaultRulesFn(validationRules)
	}
	srv.Use(&scalarVariables{})
	srv.Use(argumentCheck{maxValues: limits.MaxFilterValues, maxIDs: limits.maxPage})
	srv.Use(newShapeLimit(limits.MaxDepth, limits.MaxComplexity))
	srv.Use(newComplexityLimit(limits.MaxComplexity))
	srv.SetErrorPresenter(errorPresenter(log, es.Schema()))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "panic in resolver", "request_id", RequestIDFrom(ctx), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		return errors.New("panic") // shown as a generic internal error
	})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if info := RequestInfoFrom(ctx); info != nil {
			info.Operation, info.OperationType = operationOf(graphql.GetOperationContext(ctx))
			info.Executor = "generated" // unless the direct executor answers (direct.go)
		}
		op := graphql.GetOperationContext(ctx).Operation
		respond := next(withLoaders(ctx, opt.Store, scopeOf(ctx), op != nil && op.Operation == ast.Mutation))
		return func(ctx context.Context) *graphql.Response {
			resp := respond(ctx)
			if resp == nil && ctx.Err() != nil {
				// The executor gives up on a request whose time ran out before it began.
				resp = &graphql.Response{Errors: gqlerror.List{timedOut(nil)}}
			}
			markUnavailable(ctx, resp)
			RequestInfoFrom(ctx).noteCodes(resp)
			return resp
		}
	})
	// Every response, including those refused before an operation began (parse and validation
	// errors), passes here: the access log learns its error codes.
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		RequestInfoFrom(ctx).noteCodes(resp)
		return resp
	})
}

// errorPresenter gives every error a code and a caller-safe message. Coded domain errors keep
// their message; errors gqlgen raised about the document or its inputs keep theirs; anything
// else is internal: logged in full with the request id and shown as a generic message, so no
// SQL, driver text or stack ever reaches a client.
func errorPresenter(log *slog.Logger, schema *ast.Schema) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		path := graphql.GetPath(ctx)
		var coded *models.Error
		if errors.As(err, &coded) {
			if coded.Code == models.ErrInternal {
				log.ErrorContext(ctx, "internal error", "request_id", RequestIDFrom(ctx), "err", err)
			}
			return &gqlerror.Error{Message: coded.Message, Path: path, Extensions: map[string]any{"code": string(coded.Code)}}
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return timedOut(path)
		}
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) {
			// Raised by gqlgen itself, never by our resolvers: parse and validation errors, and
			// input values that did not coerce (wrapped with their input path).
			out := *gqlErr
			out.Err = nil
			if len(gqlErr.Path) > 0 && !strings.Contains(out.Message, gqlErr.Path.String()) {
				// Name the input path in the message, not only in the path field.
				out.Message = gqlErr.Path.String() + ": " + out.Message
			}
			if m, _, found := strings.Cut(out.Message, " body:"); found && strings.HasPrefix(m, "json request body could not be decoded") {
				out.Message = m // do not echo the whole request back
			}
			if CallerFrom(ctx).Role != models.RoleAdmin {
				// Field suggestions would let a caller map the schema without introspection.
				if i := strings.Index(out.Message, " Did you mean"); i > 0 {
					out.Message = out.Message[:i]
				}
			}
			out.Message = withEnumValues(schema, out.Message)
			if out.Path == nil {
				out.Path = path
			}
			if out.Extensions == nil || out.Extensions["code"] == nil {
				out.Extensions = map[string]any{"code": string(models.ErrBadUserInput)}
			}
			variableLocation(&out) // scalars.go
			return &out
		}
		log.ErrorContext(ctx, "internal error", "request_id", RequestIDFrom(ctx), "path", path.String(), "err", err)
		return &gqlerror.Error{Message: "internal server error", Path: path,
			Extensions: map[string]any{"code": string(models.ErrInternal)}}
	}
}

// RequestInfo is what the access log learns from inside the GraphQL layer.
type RequestInfo struct {
	ID        string
	Operation string
	// OperationType is query, mutation or subscription, once an operation was chosen.
	OperationType string
	// Executor is how the operation ran: direct, generated, or fallback (direct, abandoned
	// for the generated executor).
	Executor string
	Start    time.Time
	// Unavailable is set when the answer carries no data because the database was down or
	// the request ran out of time: the transport answers 503.
	Unavailable bool

	statements atomic.Int64 // SQL statements sent for the request
	mu         sync.Mutex
	codes      []string
}

func (i *RequestInfo) setExecutor(e string) {
	if i != nil {
		i.Executor = e
	}
}

// AddCode records an error code the response carries.
func (i *RequestInfo) AddCode(code string) {
	if i == nil || code == "" {
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if !slices.Contains(i.codes, code) {
		i.codes = append(i.codes, code)
	}
}

// Codes are the distinct extensions.code values of the response's errors, in the order they
// were first seen.
func (i *RequestInfo) Codes() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return slices.Clone(i.codes)
}

func (i *RequestInfo) noteCodes(resp *graphql.Response) {
	if i == nil || resp == nil {
		return
	}
	for _, e := range resp.Errors {
		code, _ := e.Extensions["code"].(string)
		i.AddCode(code)
	}
}

type requestInfoKey struct{}

// WithRequestInfo returns a context carrying info for the access log.
func WithRequestInfo(ctx context.Context, info *RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, info)
}

// RequestInfoFrom returns the RequestInfo of ctx, or nil outside an HTTP request.
func RequestInfoFrom(ctx context.Context) *RequestInfo {
	info, _ := ctx.Value(requestInfoKey{}).(*RequestInfo)
	return info
}

// RequestIDFrom returns the request id of ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	if info := RequestInfoFrom(ctx); info != nil {
		return info.ID
	}
	return ""
}

// introspectionForAdmins allows introspection to admins only; in open mode every caller is
// one.
type introspectionForAdmins struct{}

func (introspectionForAdmins) ExtensionName() string                   { return "IntrospectionForAdmins" }
func (introspectionForAdmins) Validate(graphql.ExecutableSchema) error { return nil }

func (introspectionForAdmins) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	rc.DisableIntrospection = CallerFrom(ctx).Role != models.RoleAdmin
	return nil
}

func timedOut(path ast.Path) *gqlerror.Error {
	return &gqlerror.Error{Message: "the request timed out or was cancelled", Path: path,
		Extensions: map[string]any{"code": string(models.ErrServiceUnavailable)}}
}

// markUnavailable flags, for HTTP 503, an answer that could serve nothing because the
// database was unavailable: no data at all, or every root field null with a
// SERVICE_UNAVAILABLE error at or beneath it, whether the root fields are nullable or not.
func markUnavailable(ctx context.Context, resp *graphql.Response) {
	info := RequestInfoFrom(ctx)
	if resp == nil || info == nil {
		return
	}
	failed := map[string]bool{} // root response keys with an unavailable error
	unavailable := false
	for _, e := range resp.Errors {
		if e.Extensions["code"] != string(models.ErrServiceUnavailable) {
			continue
		}
		unavailable = true
		if len(e.Path) > 0 {
			if k, ok := e.Path[0].(ast.PathName); ok {
				failed[string(k)] = true
			}
		}
	}
	if !unavailable {
		return
	}
	if len(resp.Data) == 0 || string(resp.Data) == "null" || allFailed(resp.Data, failed) {
		info.Unavailable = true
	}
}

// allFailed reports whether every member of the data object is null and listed in failed.
// It reads the data only when an unavailable error came with it.
func allFailed(data []byte, failed map[string]bool) bool {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(data, &root); err != nil || len(root) == 0 {
		return false
	}
	for k, v := range root {
		if !failed[k] || string(v) != "null" {
			return false
		}
	}
	return true
}

// notAnEnumValue is gqlparser's message for a value that is not one of an enum's.
var notAnEnumValue = regexp.MustCompile(` is not a valid ([_A-Za-z][_0-9A-Za-z]*)$`)

// withEnumValues adds to the message of a value that is not one of an enum's the values that
// are, which the reference documents: a pipeline that sent a wrong one learns the right ones
// from the answer.
func withEnumValues(schema *ast.Schema, msg string) string {
	m := notAnEnumValue.FindStringSubmatch(msg)
	if m == nil || schema == nil {
		return msg
	}
	def := schema.Types[m[1]]
	if def == nil || def.Kind != ast.Enum {
		return msg
	}
	names := make([]string, len(def.EnumValues))
	for i, v := range def.EnumValues {
		names[i] = v.Name
	}
	return msg + " (one of " + strings.Join(names, ", ") + ")"
}
