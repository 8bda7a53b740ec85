package graph

import (
	"context"

	"github.com/portfolio-graph/portfolio-graph/db"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// loadNodes resolves global ids in at most one statement per kind, keeping the ids' order;
// unknown, malformed and invisible ids give nil. The objects of each kind are registered as a
// group, so their nested fields batch as well.
func loadNodes(ctx context.Context, store *db.Store, ids []string) ([]models.Node, error) {
	scope := scopeOf(ctx)
	type parsed struct {
		kind  models.NodeType
		parts []string
	}
	refs := make([]parsed, len(ids))
	var customerIDs, accountIDs []string
	var cardKeys []models.CardKey
	for i, id := range ids {
		t, parts, ok := models.ParseNodeID(id)
		if !ok {
			continue
		}
		refs[i] = parsed{t, parts}
		switch t {
		case models.NodeCustomer:
			customerIDs = append(customerIDs, parts[0])
		case models.NodeAccount:
			accountIDs = append(accountIDs, parts[0])
		case models.NodeCard:
			cardKeys = append(cardKeys, cardKey(parts))
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
	adopt(ctx, values(customers))
	adopt(ctx, values(accounts))
	adopt(ctx, values(cards))
	out := make([]models.Node, len(ids))
	for i, r := range refs {
		switch r.kind {
		case models.NodeCustomer:
			if c, ok := customers[r.parts[0]]; ok {
				out[i] = c
			}
		case models.NodeAccount:
			if a, ok := accounts[r.parts[0]]; ok {
				out[i] = a
			}
		case models.NodeCard:
			if c, ok := cards[cardKey(r.parts)]; ok {
				out[i] = c
			}
		}
	}
	return out, nil
}

func cardKey(parts []string) models.CardKey {
	return models.CardKey{SourceAccountID: parts[0], SourceCustomerID: parts[1], Last4: parts[2]}
}
