package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"

	"github.com/portfolio-graph/portfolio-graph/db"
	"github.com/portfolio-graph/portfolio-graph/feed"
	"github.com/portfolio-graph/portfolio-graph/graph"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// The ingest command's batches go straight to the store when every customer of the batch is
// of the publisher's plain JSON shape (models.InputDecoder), which the GraphQL layer would
// turn into exactly the same inputs: validating and unmarshalling the variables of 1,000
// nested customers cost more CPU than writing them. A batch with anything else in it (an
// unknown enum value, a date without an offset, a value of the wrong JSON type) goes through
// the mutation as before, so every problem is reported with the same path and message.

var inputDecoders = sync.Pool{New: func() any { return models.NewInputDecoder() }}

// decodeBatch reads a batch into inputs, or reports false when any customer is not of the
// plain shape.
func decodeBatch(customers []json.RawMessage) ([]*models.CustomerInput, bool) {
	d := inputDecoders.Get().(*models.InputDecoder)
	defer inputDecoders.Put(d)
	in := make([]*models.CustomerInput, len(customers))
	for i, raw := range customers {
		c, ok := decodeCustomer(d, raw)
		if !ok {
			return nil, false
		}
		in[i] = c
	}
	return in, true
}

func decodeCustomer(d *models.InputDecoder, raw []byte) (*models.CustomerInput, bool) {
	return d.Decode(graph.MarkInvalidText(raw))
}

// loadOptions are opt with the loader decoding each customer as it reads the file
// (feed.Options.Decode): an NDJSON line is then read once, into the customer the batch's
// ingest takes and its keys are read from, instead of once to check it, once for the keys
// and once more for the ingest.
func loadOptions(opt feed.Options) feed.Options {
	d := models.NewInputDecoder() // Load decodes in one goroutine
	opt.Decode = func(raw []byte) (*models.CustomerInput, bool) { return decodeCustomer(d, raw) }
	return opt
}

// directIngester ingests a batch through store.Ingest, as the mutation does for an operator
// with access to every organization, and hands batches it cannot decode to viaGraphQL.
func directIngester(store *db.Store, log *slog.Logger, viaGraphQL feed.IngestFunc) feed.IngestFunc {
	return func(ctx context.Context, customers []json.RawMessage, opt feed.BatchOptions) (*feed.BatchResult, error) {
		in, ok := opt.Inputs, opt.Inputs != nil
		if !ok {
			in, ok = decodeBatch(customers)
		}
		if !ok {
			return viaGraphQL(ctx, customers, opt)
		}
		res, err := store.Ingest(ctx, models.AllOrganizations(), in, db.IngestOptions{SkipInvalid: opt.SkipInvalid, DryRun: opt.DryRun})
		if err != nil {
			var coded *models.Error
			if errors.As(err, &coded) {
				if coded.Code == models.ErrInternal {
					log.ErrorContext(ctx, "internal error", "err", err)
				}
				return nil, errors.New(coded.Message)
			}
			return nil, err
		}
		out := &feed.BatchResult{Summary: payloadSummary(res.Summary), Problems: make([]feed.Problem, len(res.Problems))}
		for i, p := range res.Problems {
			out.Problems[i] = feed.Problem{Path: p.Path, Code: string(p.Code), Message: p.Message}
		}
		return out, nil
	}
}

// payloadSummary is the summary as ingestMutation selects it: deletions are counted for cards
// only.
func payloadSummary(s models.IngestSummary) models.IngestSummary {
	counts := func(c *models.WriteCounts, deleted bool) *models.WriteCounts {
		out := &models.WriteCounts{Created: c.Created, Updated: c.Updated, Unchanged: c.Unchanged}
		if deleted {
			out.Deleted = c.Deleted
		}
		return out
	}
	return models.IngestSummary{Customers: counts(s.Customers, false), Accounts: counts(s.Accounts, false),
		Cards: counts(s.Cards, true), SkippedCustomers: s.SkippedCustomers, DryRun: s.DryRun}
}
