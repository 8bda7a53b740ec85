package graph

import (
	"context"

	"github.com/portfolio-graph/portfolio-graph/db"
)

// Resolver is the composition root of the GraphQL layer. Resolvers are adapters: they read
// arguments, call the store or a loader, and shape the result; no SQL lives here.
type Resolver struct {
	Store *db.Store
	// ReportIngest is Options.ReportIngest.
	ReportIngest func(context.Context, db.IngestReport)
}
