package db

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// Reads select their columns by name, in a fixed order, and scan each row straight into the
// model's fields: GORM's generic scanning allocates a holder per column of every row and sets
// each field by reflection, which was the larger part of the store's cost per request. GORM
// still builds and runs every statement (and its logger still sees each).

// shape is how one model reads from a row: its columns as select expressions (table-qualified,
// aliased when a prefix is given) and the scan destinations of one value, in that order.
type shape[T any] struct {
	name  string
	cols  []string
	dests func(v *T, buf []any) []any // appends v's destinations to buf
}

// selectLists keeps each select list once built, by shape, table and prefix.
var selectLists sync.Map

// selectList is the shape's columns of table, aliased prefix+column when prefix is set.
func (s shape[T]) selectList(table, prefix string) string {
	key := s.name + " " + table + " " + prefix
	if l, ok := selectLists.Load(key); ok {
		return l.(string)
	}
	var b strings.Builder
	for i, c := range s.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(table + "." + c)
		if prefix != "" {
			b.WriteString(" AS " + prefix + c)
		}
	}
	selectLists.Store(key, b.String())
	return b.String()
}

// selectRows runs tx selecting the shape's columns of table and returns its rows.
func selectRows[T any](tx *gorm.DB, s shape[T], table string) ([]*T, error) {
	return scanRows(tx.Select(s.selectList(table, "")), s.dests)
}

// scanRows runs tx and scans each row into a new T through dests, which appends the
// destinations of a T to a buffer reused from row to row.
// On PostgreSQL outside a transaction the rows are scanned by pgx itself (pgx.go).
func scanRows[T any](tx *gorm.DB, dests func(v *T, buf []any) []any) ([]*T, error) {
	var out []*T
	var buf []any
	rows, err := tx.Set(pgxScanKey, pgxScan(func(rows pgx.Rows) error {
		var rs resultScanner
		for rows.Next() {
			v := new(T)
			buf = dests(v, buf[:0])
			if err := rs.scan(rows, buf); err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})).Rows()
	if err != nil {
		return nil, err
	}
	if rows == nil {
		return out, nil // scanned by pgx
	}
	defer rows.Close()
	for rows.Next() {
		v := new(T)
		buf = dests(v, buf[:0])
		if err := rows.Scan(buf...); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// stringsColumn scans a JSON array of strings (GORM's serializer:json of a []string or of a
// slice of a string type). The arrays json.Marshal wrote, with no escape in them, are split
// directly; anything else goes through json.Unmarshal, which the direct split agrees with.
type stringsColumn[S ~string] struct{ p *[]S }

func (j stringsColumn[S]) Scan(src any) error {
	var t pgtype.Text
	if err := t.Scan(src); err != nil {
		return fmt.Errorf("JSON column: %w", err)
	}
	return j.ScanText(t)
}

// splitJSONStrings splits `["a","b"]` without escapes or spaces; ok is false for anything else.
func splitJSONStrings[S ~string](text string) (out []S, ok bool) {
	if len(text) < 2 || text[0] != '[' || text[len(text)-1] != ']' || strings.IndexByte(text, '\\') >= 0 || !utf8.ValidString(text) {
		return nil, false
	}
	body := text[1 : len(text)-1]
	out = make([]S, 0, strings.Count(body, ",")+1)
	if body == "" {
		return out, true
	}
	for {
		if len(body) < 2 || body[0] != '"' {
			return nil, false
		}
		end := strings.IndexByte(body[1:], '"') + 1
		if end == 0 {
			return nil, false
		}
		for _, c := range []byte(body[1:end]) {
			if c < 0x20 {
				return nil, false
			}
		}
		out = append(out, S(body[1:end]))
		body = body[end+1:]
		if body == "" {
			return out, true
		}
		if body[0] != ',' {
			return nil, false
		}
		body = body[1:]
	}
}

// nullStringColumn scans a nullable text column into a pointer to a string type.
type nullStringColumn[S ~string] struct{ p **S }

func (n nullStringColumn[S]) Scan(src any) error {
	var t pgtype.Text
	if err := t.Scan(src); err != nil {
		return fmt.Errorf("text column: %w", err)
	}
	return n.ScanText(t)
}

// ScanText is how pgx hands a text column over without boxing it (pgx.go).
func (n nullStringColumn[S]) ScanText(v pgtype.Text) error {
	if !v.Valid {
		*n.p = nil
		return nil
	}
	s := S(v.String)
	*n.p = &s
	return nil
}

// ScanText is how pgx hands a text column over without boxing it (pgx.go).
func (j stringsColumn[S]) ScanText(v pgtype.Text) error {
	if !v.Valid {
		return nil
	}
	if out, ok := splitJSONStrings[S](v.String); ok {
		*j.p = out
		return nil
	}
	return json.Unmarshal([]byte(v.String), j.p)
}

// ScanTimestamptz is how pgx hands a timestamp over without boxing it (pgx.go).
func (t timeColumn) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		*t.p = time.Time{}
		return nil
	}
	*t.p = v.Time
	return nil
}

// ScanTimestamptz is how pgx hands a timestamp over without boxing it (pgx.go).
func (t nullTimeColumn) ScanTimestamptz(v pgtype.Timestamptz) error {
	if !v.Valid {
		*t.p = nil
		return nil
	}
	x := v.Time
	*t.p = &x
	return nil
}

// timeColumn scans a timestamp; SQLite hands back text for a value it does not recognise as
// one, which GORM would parse, so this does too.
type timeColumn struct{ p *time.Time }

func (t timeColumn) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*t.p = v
		return nil
	case nil:
		*t.p = time.Time{}
		return nil
	}
	var text pgtype.Text
	if err := text.Scan(src); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, text.String); err == nil {
			*t.p = v
			return nil
		}
	}
	return fmt.Errorf("scan %q into a timestamp", text.String)
}

// timeLayouts are the text forms of a timestamp SQLite may hold.
var timeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", time.DateOnly}

// nullTimeColumn scans a nullable timestamp.
type nullTimeColumn struct{ p **time.Time }

func (t nullTimeColumn) Scan(src any) error {
	if src == nil {
		*t.p = nil
		return nil
	}
	v := new(time.Time)
	if err := (timeColumn{v}).Scan(src); err != nil {
		return err
	}
	*t.p = v
	return nil
}

var customerShape = shape[models.Customer]{
	name: "customer",
	cols: []string{"source_customer_id", "source_parent_customer_id", "organization_id", "postal_code", "country",
		"customer_creation_date", "enrollment_start_date", "enrollment_end_date", "enrollment_opt_in_status",
		"alert_opt_in_status", "targeting_indicator", "redemption_eligibility", "created_at", "updated_at"},
	dests: func(c *models.Customer, buf []any) []any {
		return append(buf, &c.SourceCustomerID, nullStringColumn[string]{&c.SourceParentCustomerID}, &c.OrganizationID, &c.PostalCode, &c.Country,
			timeColumn{&c.CustomerCreationDate}, timeColumn{&c.EnrollmentStartDate}, nullTimeColumn{&c.EnrollmentEndDate},
			(*string)(&c.EnrollmentOptInStatus), stringsColumn[models.AlertOptInStatus]{&c.AlertOptInStatus}, (*string)(&c.TargetingIndicator),
			nullStringColumn[models.RedemptionEligibility]{&c.RedemptionEligibility}, timeColumn{&c.CreatedAt}, timeColumn{&c.UpdatedAt})
	},
}

var accountShape = shape[models.Account]{
	name: "account",
	cols: []string{"source_account_id", "source_customer_ids", "primary_source_customer_id", "status", "type",
		"source_portfolio_id", "account_open_date", "account_close_date", "created_at", "updated_at"},
	dests: func(a *models.Account, buf []any) []any {
		return append(buf, &a.SourceAccountID, stringsColumn[string]{&a.SourceCustomerIDs}, &a.PrimarySourceCustomerID, (*string)(&a.Status), (*string)(&a.Type),
			&a.SourcePortfolioID, timeColumn{&a.AccountOpenDate}, nullTimeColumn{&a.AccountCloseDate}, timeColumn{&a.CreatedAt}, timeColumn{&a.UpdatedAt})
	},
}

var cardShape = shape[models.Card]{
	name: "card",
	cols: []string{"source_account_id", "source_customer_id", "last4", "iin", "card_type", "status",
		"network_identifier", "open_date", "close_date", "created_at", "updated_at"},
	dests: func(c *models.Card, buf []any) []any {
		return append(buf, &c.SourceAccountID, &c.SourceCustomerID, &c.Last4, &c.IIN, (*string)(&c.CardType), (*string)(&c.Status),
			&c.NetworkIdentifier, timeColumn{&c.OpenDate}, nullTimeColumn{&c.CloseDate}, timeColumn{&c.CreatedAt}, timeColumn{&c.UpdatedAt})
	},
}

// optional scans the columns of a shape from an outer join, where they are all NULL when the
// row has no match: each column is set into a new value as it comes, and the value is kept
// only when the first column (the key) is not NULL.
type optional[T any] struct {
	s     shape[T]
	v     *T
	cells []optionalCell
}

// optionalCell is one column of an optional: its destination in the value, and whether the
// column was NULL. It is a database/sql Scanner; pgx rows are scanned into its destination
// by resultScanner.
type optionalCell struct {
	dest any
	null bool
}

func (c *optionalCell) Scan(src any) error {
	c.null = src == nil
	if c.null {
		return nil // settled by optional.value, once the row is known to have a match
	}
	return assign(c.dest, src)
}

func newOptional[T any](s shape[T]) *optional[T] {
	o := &optional[T]{s: s, v: new(T)}
	dests := s.dests(o.v, make([]any, 0, len(s.cols)))
	o.cells = make([]optionalCell, len(dests))
	for i, d := range dests {
		o.cells[i].dest = d
	}
	return o
}

func (o *optional[T]) dests(buf []any) []any {
	for i := range o.cells {
		buf = append(buf, &o.cells[i])
	}
	return buf
}

// value is the scanned value, or nil when the row had none. A NULL in a matched row is set as
// a NULL is set anywhere else: a Scanner is given it, any other destination stays zero.
func (o *optional[T]) value() (*T, error) {
	if len(o.cells) == 0 || o.cells[0].null {
		return nil, nil
	}
	for i, c := range o.cells {
		if !c.null {
			continue
		}
		if err := assign(c.dest, nil); err != nil {
			return nil, fmt.Errorf("column %s: %w", o.s.cols[i], err)
		}
	}
	return o.v, nil
}

// assign stores a column's driver value into one of the shapes' destinations: a Scanner, or a
// pointer to a string, an integer, or a pointer to either (nullable), named types included.
func assign(dest, src any) error {
	if sc, ok := dest.(sql.Scanner); ok {
		return sc.Scan(src)
	}
	if b, ok := src.([]byte); ok {
		src = string(b)
	}
	v := reflect.ValueOf(dest).Elem()
	if v.Kind() == reflect.Pointer {
		if src == nil {
			v.SetZero()
			return nil
		}
		v.Set(reflect.New(v.Type().Elem()))
		v = v.Elem()
	}
	switch x := src.(type) {
	case string:
		if v.Kind() == reflect.String {
			v.SetString(x)
			return nil
		}
	case int64:
		if v.CanInt() {
			v.SetInt(x)
			return nil
		}
	case nil:
		v.SetZero()
		return nil
	}
	return fmt.Errorf("cannot store %T in %s", src, v.Type())
}

// optionalCard scans the card columns of an outer join: all NULL when the row has no card.
type optionalCard struct {
	accountID, customerID, last4, iin, cardType, status pgtype.Text // a database/sql Scanner as well
	network                                             pgtype.Int8
	openDate, closeDate, createdAt, updatedAt           *time.Time
}

func (o *optionalCard) dests(buf []any) []any {
	return append(buf, &o.accountID, &o.customerID, &o.last4, &o.iin, &o.cardType, &o.status, &o.network,
		nullTimeColumn{&o.openDate}, nullTimeColumn{&o.closeDate}, nullTimeColumn{&o.createdAt}, nullTimeColumn{&o.updatedAt})
}

// card returns the scanned card, or nil when the row had none.
func (o *optionalCard) card() (*models.Card, error) {
	if !o.last4.Valid {
		return nil, nil
	}
	if o.openDate == nil || o.createdAt == nil || o.updatedAt == nil {
		return nil, fmt.Errorf("card %s of account %s: a NOT NULL timestamp is NULL", o.last4.String, o.accountID.String)
	}
	return &models.Card{SourceAccountID: o.accountID.String, SourceCustomerID: o.customerID.String, Last4: o.last4.String,
		IIN: o.iin.String, CardType: models.CardType(o.cardType.String), Status: models.CardStatus(o.status.String),
		NetworkIdentifier: int(o.network.Int64), OpenDate: *o.openDate, CloseDate: o.closeDate,
		CreatedAt: *o.createdAt, UpdatedAt: *o.updatedAt}, nil
}
