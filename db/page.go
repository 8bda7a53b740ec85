package db

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portfolio-graph/portfolio-graph/models"
)

// PageArgs are the Relay arguments of a connection.
type PageArgs struct {
	First, Last   *int
	After, Before *string
}

// Page is one page of a keyset-paginated list.
type Page[T any] struct {
	Items   []*T
	Cursors []string
	HasNext bool
	HasPrev bool
}

// pageQuery is a resolved PageArgs: how many rows, which way, between which cursors (the
// key values of the rows after and before, nil when not given).
type pageQuery struct {
	limit         int
	backward      bool
	after, before []any
}

// cursor is the decoded form of an opaque cursor: the ordering it belongs to and the key
// values of the row it points at. Cursors of one ordering cannot be used with another.
type cursor struct {
	Order string   `json:"o"`
	Key   []string `json:"k"`
}

// encodeCursor is the cursor of a row: the base64 of json.Marshal's cursor{order, key}. Every
// row of a page gets one, so the JSON of plain strings (which json.Marshal writes as they are)
// is written directly; a string json.Marshal would escape goes through json.Marshal.
func encodeCursor(order string, key ...string) string {
	plain := plainJSON(order)
	for _, k := range key {
		plain = plain && plainJSON(k)
	}
	if !plain {
		b, _ := json.Marshal(cursor{Order: order, Key: key}) // strings always marshal
		return base64.RawURLEncoding.EncodeToString(b)
	}
	var buf [256]byte
	b := append(buf[:0], `{"o":"`...)
	b = append(b, order...)
	b = append(b, `","k":[`...)
	for i, k := range key {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"')
	}
	b = append(b, "]}"...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// plainJSON reports whether json.Marshal writes s between quotes as it is: printable ASCII
// other than the quote, the backslash and the characters it escapes for HTML (<, >, &).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func decodeCursor(s, order string, parts int) ([]string, error) {
	bad := models.Errorf(models.ErrBadUserInput, "invalid cursor: use a cursor this connection returned, with the same order")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var c cursor
	if json.Unmarshal(raw, &c) != nil || c.Order != order || len(c.Key) != parts {
		return nil, bad
	}
	for _, k := range c.Key {
		if !models.ValidText(k) { // a forged cursor; NUL cannot even be compared in PostgreSQL
			return nil, bad
		}
	}
	return c.Key, nil
}

// resolvePage checks the Relay arguments against the page limits and decodes the cursor;
// parse turns the cursor's key strings into the bound values of the keyset comparison.
func (s *Store) resolvePage(a PageArgs, order string, parts int, parse func([]string) ([]any, error)) (pageQuery, error) {
	if a.First != nil && a.Last != nil {
		return pageQuery{}, models.Errorf(models.ErrBadUserInput, "first and last cannot be used together")
	}
	q := pageQuery{limit: s.cfg.DefaultPage}
	n, name := a.First, "first"
	if a.Last != nil || (a.First == nil && a.Before != nil && a.After == nil) {
		q.backward = true
		n, name = a.Last, "last"
	}
	if n != nil {
		if *n < 0 || *n > s.cfg.MaxPage {
			return pageQuery{}, models.Errorf(models.ErrBadUserInput, "%s must be between 0 and %d, got %d", name, s.cfg.MaxPage, *n)
		}
		q.limit = *n
	}
	var err error
	if q.after, err = decodeKey(a.After, order, parts, parse); err != nil {
		return pageQuery{}, err
	}
	if q.before, err = decodeKey(a.Before, order, parts, parse); err != nil {
		return pageQuery{}, err
	}
	return q, nil
}

// decodeKey decodes an optional cursor into the key values it points at.
func decodeKey(c *string, order string, parts int, parse func([]string) ([]any, error)) ([]any, error) {
	if c == nil {
		return nil, nil
	}
	key, err := decodeCursor(*c, order, parts)
	if err != nil {
		return nil, err
	}
	vals, err := parse(key)
	if err != nil {
		return nil, models.Errorf(models.ErrBadUserInput, "invalid cursor: use a cursor this connection returned, with the same order")
	}
	return vals, nil
}

func keysAsAny(key []string) ([]any, error) {
	out := make([]any, len(key))
	for i, k := range key {
		out[i] = k
	}
	return out, nil
}

// keyset orders rows by cols (all in one direction) and pages through them by comparing the
// row value (c1, c2, ...) with the cursor's: never OFFSET, so cursors survive inserts.
type keyset struct {
	cols []string
	desc bool
}

// apply adds the cursor conditions (rows strictly between after and before, as Relay
// specifies), the order and the limit (one extra row tells whether another page follows).
func (k keyset) apply(tx *gorm.DB, q pageQuery) *gorm.DB {
	conds, order, limit := k.parts(q, nil)
	for _, c := range conds {
		tx = tx.Where(c)
	}
	return tx.Order(order).Limit(limit)
}

// parts are what apply adds: conds with the cursor conditions after them, the order and the
// limit.
func (k keyset) parts(q pageQuery, conds []clause.Expr) ([]clause.Expr, string, int) {
	desc := k.desc != q.backward // paging backward reads in the opposite order, then reverses
	if q.after != nil {
		conds = append(conds, k.compare(k.desc, q.after))
	}
	if q.before != nil {
		conds = append(conds, k.compare(!k.desc, q.before))
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	return conds, strings.Join(k.cols, dir+", ") + dir, q.limit + 1 // one ORDER BY term list, not one Order per column
}

// compare is the row-value condition (c1, c2, ...) > (key) , or < when less.
func (k keyset) compare(less bool, key []any) clause.Expr {
	op := ">"
	if less {
		op = "<"
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(k.cols)), ", ")
	lhs, rhs := strings.Join(k.cols, ", "), ph
	if len(k.cols) > 1 {
		lhs, rhs = "("+lhs+")", "("+ph+")"
	}
	return clause.Expr{SQL: lhs + " " + op + " " + rhs, Vars: key}
}

// finish trims the extra row, restores the requested order and computes cursors.
func finish[T any](rows []*T, q pageQuery, cursorOf func(*T) string) *Page[T] {
	p := &Page[T]{}
	more := len(rows) > q.limit
	if more {
		rows = rows[:q.limit]
	}
	if q.backward {
		slices.Reverse(rows)
		p.HasPrev = more
		p.HasNext = q.before != nil
	} else {
		p.HasNext = more || q.before != nil
		p.HasPrev = q.after != nil
	}
	p.Items = rows
	p.Cursors = make([]string, len(rows))
	for i, r := range rows {
		p.Cursors[i] = cursorOf(r)
	}
	return p
}

// countOf counts the rows of a filtered query, when a client selects totalCount.
func (s *Store) countOf(filtered func(context.Context) *gorm.DB) models.Counter {
	return func(ctx context.Context) (int, error) {
		var n int64
		if err := filtered(ctx).Count(&n).Error; err != nil {
			return 0, s.storeErr(ctx, err)
		}
		return int(n), nil
	}
}

// byKey runs query, selecting the shape's columns of table, when there are ids and keys its
// rows.
func byKey[T any](ctx context.Context, st *Store, ids []string, key func(*T) string, s shape[T], table string, query func() *gorm.DB) (map[string]*T, error) {
	if len(ids) == 0 {
		return map[string]*T{}, nil
	}
	rows, err := selectRows(query(), s, table)
	if err != nil {
		return nil, st.storeErr(ctx, err)
	}
	return index(rows, key), nil
}
