package db

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/portfolio-graph/portfolio-graph/feed"
	"github.com/portfolio-graph/portfolio-graph/models"
)

// A read sent with the SQL kept from an earlier one of its shape answers what GORM's own
// statement answers, on shapes of filter, scope, order, page and neighbours.
func TestKeptStatementsAnswerAsBuiltOnes(t *testing.T) {
	stores := map[string][2]*Store{}
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func(url string) *Store {
		s, err := Open(ctx, Config{URL: url, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	lite := filepath.Join(t.TempDir(), "kept.db")
	stores["sqlite"] = [2]*Store{open(lite), open(lite)}
	if url := postgresURLOrEmpty(t); url != "" {
		url = pgTestSchema(t, url)
		stores["postgres"] = [2]*Store{open(url), open(url)}
	}
	for kind, pair := range stores {
		kept, fresh := pair[0], pair[1]
		if _, err := kept.Ingest(ctx, models.AllOrganizations(), feed.Demo(120, 7), IngestOptions{}); err != nil {
			t.Fatal(err)
		}
		all, _, _, err := fresh.FindCardsWith(ctx, models.AllOrganizations(), nil, PageArgs{First: new(500)}, CardsWith{})
		if err != nil || len(all.Items) < 20 {
			t.Fatalf("%s: %d cards, %v", kind, len(all.Items), err)
		}
		type lookUp struct {
			scope models.Scope
			f     *models.CardFilter
			pa    PageArgs
			with  CardsWith
		}
		shapes := func(i int) []lookUp {
			c := all.Items[i]
			return []lookUp{
				{models.AllOrganizations(), &models.CardFilter{Last4: &c.Last4, Iin: &c.IIN}, PageArgs{}, CardsWith{Account: true, Holder: true}},
				{models.Organizations("50001", "50003"), &models.CardFilter{Last4: &c.Last4}, PageArgs{}, CardsWith{Account: true, Holder: true}},
				{models.Organizations("50002"), nil, PageArgs{First: new(5), After: &all.Cursors[i]}, CardsWith{Holder: true}},
				{models.Organizations(), nil, PageArgs{}, CardsWith{Holder: true}},
				{models.AllOrganizations(), &models.CardFilter{SourceAccountID: &c.SourceAccountID, Statuses: []models.CardStatus{c.Status}}, PageArgs{Last: new(3), Before: &all.Cursors[i]}, CardsWith{}},
				{models.AllOrganizations(), &models.CardFilter{CardTypes: []models.CardType{models.CardTypeCredit, models.CardTypeDebit}, NetworkIdentifiers: []int{c.NetworkIdentifier}}, PageArgs{First: new(4)}, CardsWith{Account: true}},
			}
		}
		for _, i := range []int{0, 7, 13, 19} { // the first builds each shape, the others are kept
			for n, l := range shapes(i) {
				got, gotNear, _, err1 := kept.FindCardsWith(ctx, l.scope, l.f, l.pa, l.with)
				want, wantNear, _, err2 := fresh.FindCardsWith(ctx, l.scope, l.f, l.pa, l.with)
				if err1 != nil || err2 != nil {
					t.Fatalf("%s: card %d, shape %d: %v, %v", kind, i, n, err1, err2)
				}
				if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotNear, wantNear) {
					t.Errorf("%s: card %d, shape %d: kept SQL answered\n%+v\nGORM's:\n%+v", kind, i, n, got, want)
				}
			}
			// The other reads that keep their SQL: pages of customers, holders' accounts with
			// and without their cards, and customers with their accounts.
			c := all.Items[i]
			ids := []string{c.SourceCustomerID, all.Items[i+1].SourceCustomerID, "absent"}
			since := time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC)
			desc := models.OrderDirectionDesc
			others := []func(s *Store) (any, error){
				func(s *Store) (any, error) {
					p, _, err := s.FindCustomers(ctx, models.Organizations("50001", "50002", "50004"), &models.CustomerFilter{Countries: []string{"us", "GB"}, CustomerCreationDate: &models.DateTimeRange{From: &since}},
						&models.CustomerOrder{Field: models.CustomerOrderFieldCustomerCreationDate, Direction: &desc}, PageArgs{First: new(3 + i%4)})
					return p, err
				},
				func(s *Store) (any, error) {
					p, _, err := s.FindCustomers(ctx, models.AllOrganizations(), nil, nil, PageArgs{First: new(10), After: new(encodeCursor("id", c.SourceCustomerID))})
					return p, err
				},
				func(s *Store) (any, error) {
					a, cs, err := s.AccountsWithCardsByHolders(ctx, models.Organizations("50003"), ids, &models.AccountFilter{Statuses: []models.AccountStatus{models.AccountStatusOpen}})
					return []any{a, cs}, err
				},
				func(s *Store) (any, error) { return s.AccountsByHolders(ctx, models.AllOrganizations(), ids, nil) },
				func(s *Store) (any, error) {
					return s.CustomersWithAccounts(ctx, models.Organizations("50001"), ids, i%2 == 0)
				},
				func(s *Store) (any, error) { return s.CustomersWithAccounts(ctx, models.AllOrganizations(), ids, true) },
			}
			for n, read := range others {
				got, err1 := read(kept)
				want, err2 := read(fresh)
				if err1 != nil || err2 != nil {
					t.Fatalf("%s: card %d, read %d: %v, %v", kind, i, n, err1, err2)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: card %d, read %d: kept SQL answered\n%+v\nGORM's:\n%+v", kind, i, n, got, want)
				}
			}
			fresh.kept = keptStatements{} // the other store always builds
		}
		// SQLite's dialector writes a LIMIT's value into the SQL, not as a variable: GORM's
		// variables are then not the parts' own, and a statement with a LIMIT is built every
		// time (its name is kept with no SQL).
		var keptSQL, built int
		for _, text := range kept.kept.sql {
			if text == "" {
				built++
			} else {
				keptSQL++
			}
		}
		want := map[string][2]int{"postgres": {13, 0}, "sqlite": {5, 8}}[kind]
		if keptSQL != want[0] || built != want[1] {
			t.Errorf("%s: SQL kept for %d names, %d built every time; want %d and %d", kind, keptSQL, built, want[0], want[1])
		}
	}
}
