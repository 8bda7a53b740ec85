package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/portfolio-graph/portfolio-graph/feed"
)

// On PostgreSQL an ingest writes the rows it found absent by COPY and deletes holder rows and
// cards only of the accounts it found holding some (db/ingest_postgres.go), as SQLite does too;
// SQLite writes every row through GORM's upserts. The same loads, through the ingest command's
// loader, leave both stores with the same counts, problems, totals and data: new
// trees, a replay, changes beside new rows in one batch (holders dropped with their cards, a
// card and an account added, attributes changed), a rejected batch and skipped customers.
func TestIngestPostgresMatchesSQLite(t *testing.T) {
	postgresURL(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	envs := []*env{newEnv(t, "postgres", nil), newEnv(t, "sqlite", nil)}
	raw := func(v any) string { return string(must(json.Marshal(v))) }
	joint := func(id string, holders []any, cards ...obj) obj { return account(id, holders, cards...) }
	// P1 and P2 share account J; P3 is P1's child; P4 has two accounts.
	p1 := with(customer("P1", "50001"), "accounts", []any{
		joint("J", []any{"P1", "P2"}, card("J", "P1", "1111", "412345"), card("J", "P2", "2222", "432100")),
		account("A-P1", []any{"P1"}, card("A-P1", "P1", "3333", "412345"))})
	p2 := with(customer("P2", "50001"), "accounts", []any{
		joint("J", []any{"P1", "P2"}, card("J", "P1", "1111", "412345"), card("J", "P2", "2222", "432100"))})
	p3 := with(customer("P3", "50002"), "sourceParentCustomerId", "P1", "redemptionEligibility", "NONE")
	p4 := with(customer("P4", "50002"), "accounts", []any{
		account("A-P4", []any{"P4"}, card("A-P4", "P4", "4444", "412345"), card("A-P4", "P4", "5555", "445566")),
		account("B-P4", []any{"P4"})})
	first := []string{raw(p1), raw(p2), raw(p3), raw(p4)}
	// J loses P2 (and P2's card on it), P1's card on J changes, A-P1 gains a card, P4 gains an
	// account, P5 is new, P3 moves to another organization.
	jOnly := joint("J", []any{"P1"}, with(card("J", "P1", "1111", "412345"), "status", "CLOSED", "closeDate", "2024-01-01"))
	changed := []string{
		raw(with(p1, "accounts", []any{jOnly, account("A-P1", []any{"P1"}, card("A-P1", "P1", "3333", "412345"), card("A-P1", "P1", "6666", "412345"))})),
		raw(with(p2, "accounts", []any{account("A-P2", []any{"P2"}, card("A-P2", "P2", "7777", "412345"))})),
		raw(with(p3, "organizationId", "50003")),
		raw(with(p4, "accounts", append(p4["accounts"].([]any), account("C-P4", []any{"P4"}, card("C-P4", "P4", "8888", "412345"))))),
		raw(customer("P5", "50001")),
	}
	bad := []string{raw(customer("P6", "50001")), raw(with(customer("P7", "50001"), "country", "XX")), raw(with(p4, "postalCode", "78701"))}
	loads := []struct {
		lines []string
		opt   feed.Options
	}{
		{first, feed.Options{}},
		{first, feed.Options{}},
		{changed, feed.Options{}},
		{changed, feed.Options{BatchSize: 2}},
		{bad, feed.Options{}},
		{bad, feed.Options{SkipInvalid: true}},
		{first, feed.Options{BatchSize: 1}},
	}
	for i, l := range loads {
		var totals [2]*feed.Totals
		for k, e := range envs {
			var err error
			totals[k], err = feed.Load(context.Background(), strings.NewReader(strings.Join(l.lines, "\n")), ingester(e.store, e.cfg, quiet), l.opt)
			if err != nil {
				t.Fatalf("load %d on %s: %v", i, e.kind, err)
			}
		}
		if !reflect.DeepEqual(totals[0], totals[1]) {
			t.Errorf("load %d:\n postgres %+v\n sqlite   %+v", i, totals[0], totals[1])
		}
		if a, b := storedState(t, envs[0]), storedState(t, envs[1]); a != b {
			t.Fatalf("load %d: stored data differ:\n postgres %s\n sqlite   %s", i, a, b)
		}
		if i == 2 {
			// The same on both stores, and what the file says: J is P1's alone, and P2's card
			// on it is gone with P2.
			for _, e := range envs {
				var out struct {
					Account struct {
						SourceCustomerIDs []string
						Holders           []struct{ SourceCustomerID string }
						Cards             []struct{ Last4, Status string }
					}
				}
				e.query(t, `{ account(sourceAccountId: "J") { sourceCustomerIds holders { sourceCustomerId } cards { last4 status } } }`, nil, &out)
				j := out.Account
				if len(j.SourceCustomerIDs) != 1 || j.SourceCustomerIDs[0] != "P1" || len(j.Holders) != 1 || j.Holders[0].SourceCustomerID != "P1" ||
					len(j.Cards) != 1 || j.Cards[0].Last4 != "1111" || j.Cards[0].Status != "CLOSED" {
					t.Errorf("%s after the changes: J is %+v; want held by P1 alone, with its card 1111 closed", e.kind, j)
				}
			}
		}
	}
}
