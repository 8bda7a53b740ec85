package graph

import (
	"context"
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Executor runs operations in-process, through the same schema, resolvers, loaders and error
// presenter as the HTTP endpoint. The ingest command uses it so that a file goes through
// exactly the path a client's mutation takes.
type Executor struct{ exec *executor.Executor }

// NewExecutor builds an in-process executor.
func NewExecutor(opt Options) *Executor {
	return &Executor{exec: newExecutor(opt)}
}

// Run executes one operation; variables are decoded JSON values.
func (e *Executor) Run(ctx context.Context, query string, variables map[string]any) (json.RawMessage, gqlerror.List) {
	ctx = graphql.StartOperationTrace(ctx)
	rc, errs := e.exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query, Variables: variables})
	if errs != nil {
		resp := e.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
		return nil, resp.Errors
	}
	handler, ctx := e.exec.DispatchOperation(ctx, rc)
	resp := handler(ctx)
	return resp.Data, resp.Errors
}
