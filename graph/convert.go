package graph

import (
	"github.com/portfolio-graph/portfolio-graph/db"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// Conversions between store results and GraphQL payloads.

func pageInfo[T any](p *db.Page[T]) *models.PageInfo {
	info := &models.PageInfo{HasNextPage: p.HasNext, HasPreviousPage: p.HasPrev}
	if n := len(p.Cursors); n > 0 {
		info.StartCursor, info.EndCursor = &p.Cursors[0], &p.Cursors[n-1]
	}
	return info
}

func customerConnection(p *db.Page[models.Customer], count models.Counter) *models.CustomerConnection {
	edges := make([]*models.CustomerEdge, len(p.Items))
	for i, c := range p.Items {
		edges[i] = &models.CustomerEdge{Cursor: p.Cursors[i], Node: c}
	}
	return models.NewCustomerConnection(edges, pageInfo(p), count)
}

func accountConnection(p *db.Page[models.Account], count models.Counter) *models.AccountConnection {
	edges := make([]*models.AccountEdge, len(p.Items))
	for i, a := range p.Items {
		edges[i] = &models.AccountEdge{Cursor: p.Cursors[i], Node: a}
	}
	return models.NewAccountConnection(edges, pageInfo(p), count)
}

func cardConnection(p *db.Page[models.Card], count models.Counter) *models.CardConnection {
	edges := make([]*models.CardEdge, len(p.Items))
	for i, c := range p.Items {
		edges[i] = &models.CardEdge{Cursor: p.Cursors[i], Node: c}
	}
	return models.NewCardConnection(edges, pageInfo(p), count)
}

func userErrors(problems []models.UserError) []*models.UserError {
	out := make([]*models.UserError, len(problems))
	for i := range problems {
		out[i] = &problems[i]
	}
	return out
}
