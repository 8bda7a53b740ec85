package graph

import (
	"context"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// Caller is who is making a request: the transport edge puts it in the context (from a token,
// or as the open-mode admin when the server runs without authentication).
type Caller struct {
	Subject *string
	Role    models.Role
	Scope   models.Scope
}

type callerKey struct{}

// OpenCaller is the caller of a server running without authentication: an admin of every
// organization.
func OpenCaller() Caller { return Caller{Role: models.RoleAdmin, Scope: models.AllOrganizations()} }

// WithCaller returns a context carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the request's caller. A context without one sees nothing: forgetting to
// authenticate a path fails closed.
func CallerFrom(ctx context.Context) Caller {
	if c, ok := ctx.Value(callerKey{}).(Caller); ok {
		return c
	}
	return Caller{Role: models.RoleReader, Scope: models.Organizations()}
}

func scopeOf(ctx context.Context) models.Scope { return CallerFrom(ctx).Scope }

// requireWriter refuses mutations to readers.
func requireWriter(ctx context.Context) error {
	if r := CallerFrom(ctx).Role; r != models.RoleWriter && r != models.RoleAdmin {
		return models.Errorf(models.ErrForbidden, "your role may not change data")
	}
	return nil
}
