package db

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// On PostgreSQL, an ingest writes each table in one statement whatever the batch's size: the
// rows travel as one array per column (binary, one parameter each) and unnest turns them back
// into rows. GORM's multi-row INSERT had eleven parameters per row, each encoded on its own,
// in chunks under PostgreSQL's parameter limit; encoding them was a fifth of the loader's CPU.
// SQLite keeps GORM's statements (upsertRows).

// pgColumns is a column list: name and PostgreSQL type of each.
type pgColumns [][2]string

// unnestInsert is INSERT INTO table (cols) SELECT * FROM unnest(one array per column), and
// the same with every column but the key and created_at replaced on a conflict of the key.
//
// Rows an ingest found absent are inserted without ON CONFLICT, which costs PostgreSQL a
// probe of the key and a WAL record less per row: the ingest holds the advisory locks of
// their keys (lock.go), so no other writer of this store can have created them since.
func unnestInsert(table string, cols pgColumns, key ...string) (insert, upsert string) {
	var names, arrays, set []string
	for _, c := range cols {
		names = append(names, c[0])
		arrays = append(arrays, "CAST(? AS "+c[1]+"[])")
		if !slices.Contains(key, c[0]) && c[0] != "created_at" {
			set = append(set, c[0]+" = excluded."+c[0])
		}
	}
	insert = "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") SELECT * FROM unnest(" + strings.Join(arrays, ", ") + ")"
	if len(key) > 0 {
		upsert = insert + " ON CONFLICT (" + strings.Join(key, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
	}
	return insert, upsert
}

// pgStatement picks the insert or the upsert of a pair unnestInsert made.
func pgStatement(pair [2]string, conflict bool) string {
	if conflict {
		return pair[1]
	}
	return pair[0]
}

func pair(insert, upsert string) [2]string { return [2]string{insert, upsert} }

var (
	upsertCustomersSQL = pair(unnestInsert("customers", pgColumns{{"source_customer_id", "text"}, {"source_parent_customer_id", "text"},
		{"organization_id", "text"}, {"postal_code", "text"}, {"country", "text"}, {"customer_creation_date", "timestamptz"},
		{"enrollment_start_date", "timestamptz"}, {"enrollment_end_date", "timestamptz"}, {"enrollment_opt_in_status", "text"},
		{"alert_opt_in_status", "text"}, {"targeting_indicator", "text"}, {"redemption_eligibility", "text"},
		{"created_at", "timestamptz"}, {"updated_at", "timestamptz"}}, "source_customer_id"))
	upsertAccountsSQL = pair(unnestInsert("accounts", pgColumns{{"source_account_id", "text"}, {"source_customer_ids", "text"},
		{"primary_source_customer_id", "text"}, {"status", "text"}, {"type", "text"}, {"source_portfolio_id", "text"},
		{"account_open_date", "timestamptz"}, {"account_close_date", "timestamptz"}, {"created_at", "timestamptz"},
		{"updated_at", "timestamptz"}}, "source_account_id"))
	upsertCardsSQL = pair(unnestInsert("cards", pgColumns{{"source_account_id", "text"}, {"source_customer_id", "text"}, {"last4", "text"},
		{"iin", "text"}, {"card_type", "text"}, {"status", "text"}, {"network_identifier", "bigint"}, {"open_date", "timestamptz"},
		{"close_date", "timestamptz"}, {"created_at", "timestamptz"}, {"updated_at", "timestamptz"}},
		"source_account_id", "source_customer_id", "last4"))
	insertHoldersSQL, _ = unnestInsert("account_holders", pgColumns{{"source_account_id", "text"}, {"source_customer_id", "text"},
		{"position", "bigint"}})
)

// column is one array parameter, encoded by pgx as a binary array (pgtype.ArrayGetter), with
// nil pointers as NULL. Value only keeps GORM from expanding the slice into a list of
// placeholders (GORM passes a driver.Valuer on as one value); pgx never calls it.
type column[T any] []T

func (c column[T]) Dimensions() []pgtype.ArrayDimension { return pgtype.FlatArray[T](c).Dimensions() }
func (c column[T]) Index(i int) any                     { return c[i] }
func (c column[T]) IndexType() any                      { var v T; return v }

func (column[T]) Value() (driver.Value, error) {
	return nil, errors.New("an array column is for PostgreSQL through pgx")
}

// columns collects the values of each column from rows.
func columns[R, T any](rows []*R, get func(*R) T) column[T] {
	out := make(column[T], len(rows))
	for i, r := range rows {
		out[i] = get(r)
	}
	return out
}

// jsonText is a list as GORM's serializer:json stores it in a NOT NULL column.
func jsonText[T any](v []T) string {
	b, _ := json.Marshal(v) // lists of strings always marshal
	if string(b) == "null" {
		return ""
	}
	return string(b)
}

func enumPtr[E ~string](e *E) *string {
	if e == nil {
		return nil
	}
	s := string(*e)
	return &s
}

func upsertCustomersPG(tx *gorm.DB, rows []*models.Customer, conflict bool) error {
	if len(rows) == 0 {
		return nil
	}
	type c = models.Customer
	return tx.Exec(pgStatement(upsertCustomersSQL, conflict),
		columns(rows, func(r *c) string { return r.SourceCustomerID }),
		columns(rows, func(r *c) *string { return r.SourceParentCustomerID }),
		columns(rows, func(r *c) string { return r.OrganizationID }),
		columns(rows, func(r *c) string { return r.PostalCode }),
		columns(rows, func(r *c) string { return r.Country }),
		columns(rows, func(r *c) time.Time { return r.CustomerCreationDate }),
		columns(rows, func(r *c) time.Time { return r.EnrollmentStartDate }),
		columns(rows, func(r *c) *time.Time { return r.EnrollmentEndDate }),
		columns(rows, func(r *c) string { return string(r.EnrollmentOptInStatus) }),
		columns(rows, func(r *c) string { return jsonText(r.AlertOptInStatus) }),
		columns(rows, func(r *c) string { return string(r.TargetingIndicator) }),
		columns(rows, func(r *c) *string { return enumPtr(r.RedemptionEligibility) }),
		columns(rows, func(r *c) time.Time { return r.CreatedAt }),
		columns(rows, func(r *c) time.Time { return r.UpdatedAt }),
	).Error
}

func upsertAccountsPG(tx *gorm.DB, rows []*models.Account, conflict bool) error {
	if len(rows) == 0 {
		return nil
	}
	type a = models.Account
	return tx.Exec(pgStatement(upsertAccountsSQL, conflict),
		columns(rows, func(r *a) string { return r.SourceAccountID }),
		columns(rows, func(r *a) string { return jsonText(r.SourceCustomerIDs) }),
		columns(rows, func(r *a) string { return r.PrimarySourceCustomerID }),
		columns(rows, func(r *a) string { return string(r.Status) }),
		columns(rows, func(r *a) string { return string(r.Type) }),
		columns(rows, func(r *a) string { return r.SourcePortfolioID }),
		columns(rows, func(r *a) time.Time { return r.AccountOpenDate }),
		columns(rows, func(r *a) *time.Time { return r.AccountCloseDate }),
		columns(rows, func(r *a) time.Time { return r.CreatedAt }),
		columns(rows, func(r *a) time.Time { return r.UpdatedAt }),
	).Error
}

func upsertCardsPG(tx *gorm.DB, rows []*models.Card, conflict bool) error {
	if len(rows) == 0 {
		return nil
	}
	type c = models.Card
	return tx.Exec(pgStatement(upsertCardsSQL, conflict),
		columns(rows, func(r *c) string { return r.SourceAccountID }),
		columns(rows, func(r *c) string { return r.SourceCustomerID }),
		columns(rows, func(r *c) string { return r.Last4 }),
		columns(rows, func(r *c) string { return r.IIN }),
		columns(rows, func(r *c) string { return string(r.CardType) }),
		columns(rows, func(r *c) string { return string(r.Status) }),
		columns(rows, func(r *c) int64 { return int64(r.NetworkIdentifier) }),
		columns(rows, func(r *c) time.Time { return r.OpenDate }),
		columns(rows, func(r *c) *time.Time { return r.CloseDate }),
		columns(rows, func(r *c) time.Time { return r.CreatedAt }),
		columns(rows, func(r *c) time.Time { return r.UpdatedAt }),
	).Error
}

func insertHoldersPG(tx *gorm.DB, rows []*models.AccountHolder) error {
	if len(rows) == 0 {
		return nil
	}
	type h = models.AccountHolder
	return tx.Exec(insertHoldersSQL,
		columns(rows, func(r *h) string { return r.SourceAccountID }),
		columns(rows, func(r *h) string { return r.SourceCustomerID }),
		columns(rows, func(r *h) int64 { return int64(r.Position) }),
	).Error
}
