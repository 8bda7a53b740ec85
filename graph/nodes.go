package graph

import (
	"context"

	"github.com/portfolio-graph/portfolio-graph/db"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// loadNodes resolves global ids in at most one statement per kind, keeping the ids' order;
// unknown, malformed and invisible ids give nil.
func loadNodes(ctx context.Context, store *db.Store, ids []string) ([]models.Node, error) {
	scope := scopeOf(ctx)
	var customerIDs, accountIDs []string
	var cardKeys []models.CardKey
	for _, id := range ids {
		t, parts, ok := models.ParseNodeID(id)
		switch {
		case !ok:
		case t == models.NodeCustomer:
			customerIDs = append(customerIDs, parts[0])
		case t == models.NodeAccount:
			accountIDs = append(accountIDs, parts[0])
		case t == models.NodeCard:
			cardKeys = append(cardKeys, models.CardKey{SourceAccountID: parts[0], SourceCustomerID: parts[1], Last4: parts[2]})
		}
	}
	customers, err := store.CustomersByIDs(ctx, scope, customerIDs)
	if err != nil {
		return nil, err
	}
	accounts, err := store.AccountsByIDs(ctx, scope, accountIDs)
	if err != nil {
		return nil, err
	}
	cards, err := store.CardsByKeys(ctx, scope, cardKeys)
	if err != nil {
		return nil, err
	}
	out := make([]models.Node, len(ids))
	for i, id := range ids {
		t, parts, ok := models.ParseNodeID(id)
		switch {
		case !ok:
		case t == models.NodeCustomer:
			if c, ok := customers[parts[0]]; ok {
				out[i] = c
			}
		case t == models.NodeAccount:
			if a, ok := accounts[parts[0]]; ok {
				out[i] = a
			}
		case t == models.NodeCard:
			if c, ok := cards[models.CardKey{SourceAccountID: parts[0], SourceCustomerID: parts[1], Last4: parts[2]}]; ok {
				out[i] = c
			}
		}
	}
	return out, nil
}
