package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// On PostgreSQL, an ingest writes each table in at most two statements whatever the batch's
// size, both binary:
//
//   - the rows it found absent go in by COPY FROM STDIN, on the connection holding the
//     transaction (Store.transactOn). COPY has no ON CONFLICT, and needs none: the ingest holds
//     the locks of their keys (lock.go), so no other writer of this store can have
//     created them since it looked. Against an INSERT ... SELECT FROM unnest of the same rows
//     it spares PostgreSQL the function scan and its tuplestore, and writes the heap a page of
//     rows per WAL record instead of a record per row. A transaction without a connection of
//     its own (an account's update rewriting its holder rows) inserts through unnest.
//   - the rows it found changed are upserted in one statement: the rows travel as one array per
//     column (binary, one parameter each) and unnest turns them back into rows, updated on the
//     conflict of their key. GORM's multi-row INSERT had eleven parameters per row, each
//     encoded on its own, in chunks under PostgreSQL's parameter limit.
//
// SQLite keeps GORM's statements (upsertRows).

// pgField is a column of a table: its name, its PostgreSQL type, and how a row gives its value.
type pgField[R any] interface {
	name() string
	pgType() string
	// array is the column of the rows, one array parameter.
	array(rows []*R) any
	// value is the row's value, for COPY.
	value(row *R) any
}

type field[R, T any] struct {
	col, typ string
	get      func(*R) T
}

func (f field[R, T]) name() string        { return f.col }
func (f field[R, T]) pgType() string      { return f.typ }
func (f field[R, T]) array(rows []*R) any { return columns(rows, f.get) }
func (f field[R, T]) value(row *R) any    { return f.get(row) }

func col[R, T any](name, typ string, get func(*R) T) pgField[R] { return field[R, T]{name, typ, get} }

// pgTable is how an ingest writes one table.
type pgTable[R any] struct {
	name   string
	fields []pgField[R]
	names  []string
	// insert is INSERT INTO table (cols) SELECT * FROM unnest(one array per column); upsert
	// the same replacing every column but the key and created_at on a conflict of the key (""
	// without a key).
	insert, upsert string
}

func newPGTable[R any](name string, key []string, fields ...pgField[R]) *pgTable[R] {
	t := &pgTable[R]{name: name, fields: fields}
	var arrays, set []string
	for _, f := range fields {
		t.names = append(t.names, f.name())
		arrays = append(arrays, "CAST(? AS "+f.pgType()+"[])")
		if !slices.Contains(key, f.name()) && f.name() != "created_at" {
			set = append(set, f.name()+" = excluded."+f.name())
		}
	}
	t.insert = "INSERT INTO " + name + " (" + strings.Join(t.names, ", ") + ") SELECT * FROM unnest(" + strings.Join(arrays, ", ") + ")"
	if len(key) > 0 {
		t.upsert = t.insert + " ON CONFLICT (" + strings.Join(key, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
	}
	return t
}

// write inserts rows that are new (fresh: by COPY on conn, the transaction's connection, or
// without one by unnest) or upserts rows that exist.
func (t *pgTable[R]) write(tx *gorm.DB, conn *sql.Conn, rows []*R, fresh bool) error {
	if len(rows) == 0 {
		return nil
	}
	if fresh && conn != nil {
		return t.copy(tx, conn, rows)
	}
	statement := t.upsert
	if fresh {
		statement = t.insert
	}
	args := make([]any, len(t.fields))
	for i, f := range t.fields {
		args[i] = f.array(rows)
	}
	return tx.Exec(statement, args...).Error
}

// copy runs COPY table (cols) FROM STDIN of rows. It goes through GORM like every other
// statement, so that the logger, the statement counts and the spans see it: its Exec runs on
// a connection pool of one statement, copyPool.
func (t *pgTable[R]) copy(tx *gorm.DB, conn *sql.Conn, rows []*R) error {
	src := &copyRows[R]{rows: rows, fields: t.fields, vals: make([]any, len(t.fields))}
	// A Session with a Context clones the Statement, so the pool set here stays with c: the
	// transaction's later statements (a batch's upserts after its COPY, which
	// TestIngestPostgresMatchesSQLite's mixed batches run) still go to tx's connection.
	c := tx.Session(&gorm.Session{Context: tx.Statement.Context})
	c.Statement.ConnPool = copyPool{conn: conn, table: t.name, cols: t.names, src: src}
	c.Statement.Table = t.name
	return c.Exec("COPY " + t.name + " (" + strings.Join(t.names, ", ") + ") FROM STDIN BINARY").Error
}

// copyRows feeds rows to pgx's COPY, one row's values at a time (pgx encodes them before it
// asks for the next).
type copyRows[R any] struct {
	rows   []*R
	fields []pgField[R]
	vals   []any
	i      int
}

func (c *copyRows[R]) Next() bool { c.i++; return c.i <= len(c.rows) }
func (c *copyRows[R]) Err() error { return nil }

func (c *copyRows[R]) Values() ([]any, error) {
	r := c.rows[c.i-1]
	for j, f := range c.fields {
		c.vals[j] = f.value(r)
	}
	return c.vals, nil
}

// copyPool is a gorm.ConnPool for one COPY: its ExecContext sends src to the table by pgx's
// CopyFrom on the pgx connection beneath conn, inside the transaction conn holds. It takes no
// other statement.
type copyPool struct {
	conn  *sql.Conn
	table string
	cols  []string
	src   pgx.CopyFromSource
}

func (p copyPool) ExecContext(ctx context.Context, _ string, _ ...any) (sql.Result, error) {
	var n int64
	err := p.conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the PostgreSQL pool holds a %T connection", driverConn)
		}
		var err error
		n, err = c.Conn().CopyFrom(ctx, pgx.Identifier{p.table}, p.cols, p.src)
		return err
	})
	return driver.RowsAffected(n), err
}

var errCopyOnly = errors.New("a COPY connection pool runs only its COPY")

func (copyPool) PrepareContext(context.Context, string) (*sql.Stmt, error) { return nil, errCopyOnly }
func (copyPool) QueryContext(context.Context, string, ...any) (*sql.Rows, error) {
	return nil, errCopyOnly
}
func (copyPool) QueryRowContext(context.Context, string, ...any) *sql.Row { return nil }

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

type (
	customerRow = models.Customer
	accountRow  = models.Account
	cardRow     = models.Card
	holderRow   = models.AccountHolder
)

var (
	customersPG = newPGTable("customers", []string{"source_customer_id"},
		col("source_customer_id", "text", func(r *customerRow) string { return r.SourceCustomerID }),
		col("source_parent_customer_id", "text", func(r *customerRow) *string { return r.SourceParentCustomerID }),
		col("organization_id", "text", func(r *customerRow) string { return r.OrganizationID }),
		col("postal_code", "text", func(r *customerRow) string { return r.PostalCode }),
		col("country", "text", func(r *customerRow) string { return r.Country }),
		col("customer_creation_date", "timestamptz", func(r *customerRow) time.Time { return r.CustomerCreationDate }),
		col("enrollment_start_date", "timestamptz", func(r *customerRow) time.Time { return r.EnrollmentStartDate }),
		col("enrollment_end_date", "timestamptz", func(r *customerRow) *time.Time { return r.EnrollmentEndDate }),
		col("enrollment_opt_in_status", "text", func(r *customerRow) string { return string(r.EnrollmentOptInStatus) }),
		col("alert_opt_in_status", "text", func(r *customerRow) string { return jsonText(r.AlertOptInStatus) }),
		col("targeting_indicator", "text", func(r *customerRow) string { return string(r.TargetingIndicator) }),
		col("redemption_eligibility", "text", func(r *customerRow) *string { return enumPtr(r.RedemptionEligibility) }),
		col("created_at", "timestamptz", func(r *customerRow) time.Time { return r.CreatedAt }),
		col("updated_at", "timestamptz", func(r *customerRow) time.Time { return r.UpdatedAt }))
	accountsPG = newPGTable("accounts", []string{"source_account_id"},
		col("source_account_id", "text", func(r *accountRow) string { return r.SourceAccountID }),
		col("source_customer_ids", "text", func(r *accountRow) string { return jsonText(r.SourceCustomerIDs) }),
		col("primary_source_customer_id", "text", func(r *accountRow) string { return r.PrimarySourceCustomerID }),
		col("status", "text", func(r *accountRow) string { return string(r.Status) }),
		col("type", "text", func(r *accountRow) string { return string(r.Type) }),
		col("source_portfolio_id", "text", func(r *accountRow) string { return r.SourcePortfolioID }),
		col("account_open_date", "timestamptz", func(r *accountRow) time.Time { return r.AccountOpenDate }),
		col("account_close_date", "timestamptz", func(r *accountRow) *time.Time { return r.AccountCloseDate }),
		col("created_at", "timestamptz", func(r *accountRow) time.Time { return r.CreatedAt }),
		col("updated_at", "timestamptz", func(r *accountRow) time.Time { return r.UpdatedAt }))
	cardsPG = newPGTable("cards", []string{"source_account_id", "source_customer_id", "last4"},
		col("source_account_id", "text", func(r *cardRow) string { return r.SourceAccountID }),
		col("source_customer_id", "text", func(r *cardRow) string { return r.SourceCustomerID }),
		col("last4", "text", func(r *cardRow) string { return r.Last4 }),
		col("iin", "text", func(r *cardRow) string { return r.IIN }),
		col("card_type", "text", func(r *cardRow) string { return string(r.CardType) }),
		col("status", "text", func(r *cardRow) string { return string(r.Status) }),
		col("network_identifier", "bigint", func(r *cardRow) int64 { return int64(r.NetworkIdentifier) }),
		col("open_date", "timestamptz", func(r *cardRow) time.Time { return r.OpenDate }),
		col("close_date", "timestamptz", func(r *cardRow) *time.Time { return r.CloseDate }),
		col("created_at", "timestamptz", func(r *cardRow) time.Time { return r.CreatedAt }),
		col("updated_at", "timestamptz", func(r *cardRow) time.Time { return r.UpdatedAt }))
	// Holder rows are only ever inserted, after the account's old ones are deleted.
	holdersPG = newPGTable("account_holders", nil,
		col("source_account_id", "text", func(r *holderRow) string { return r.SourceAccountID }),
		col("source_customer_id", "text", func(r *holderRow) string { return r.SourceCustomerID }),
		col("position", "bigint", func(r *holderRow) int64 { return int64(r.Position) }))
)
