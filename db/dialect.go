package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is the database in use. The two differ in a handful of expressions only, all here.
type dialect string

const (
	dialectPostgres dialect = "postgres"
	dialectSQLite   dialect = "sqlite"
)

// in is "col is one of vals" with one bound parameter whatever the list's length, so the
// statement text is the same for 2 or 500 keys and the driver's statement cache keeps hitting:
// = ANY($1) on PostgreSQL, IN (SELECT value FROM json_each(?)) on SQLite. One value is
// "col = $1": with sessions planning generically (openPostgres), a plan for ANY($1) cannot
// assume one value, so a page of one organization's customers in id order walked the primary
// key filtering every organization's rows instead of reading the (organization, id) index.
func (d dialect) in(col string, vals []string) clause.Expr { return anyOf(d, col, vals) }

// inInts is in for integer values.
func (d dialect) inInts(col string, vals []int) clause.Expr { return anyOf(d, col, vals) }

func anyOf[T string | int](d dialect, col string, vals []T) clause.Expr {
	if len(vals) == 1 {
		return clause.Expr{SQL: col + " = ?", Vars: []any{vals[0]}}
	}
	if d == dialectPostgres {
		return clause.Expr{SQL: col + " = ANY(?)", Vars: []any{pgArray[T](vals)}}
	}
	b, _ := json.Marshal(vals) // strings and ints always marshal
	return clause.Expr{SQL: col + " IN (SELECT value FROM json_each(?))", Vars: []any{string(b)}}
}

// month is the YYYY-MM of a stored UTC timestamp column.
func (d dialect) month(col string) string {
	if d == dialectPostgres {
		return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM')"
	}
	// SQLite keeps timestamps as "YYYY-MM-DD hh:mm:ss...+00:00" text, always in UTC.
	return "substr(" + col + ", 1, 7)"
}

// pgArray is a PostgreSQL array parameter (text[] or integer[]). It is a driver.Valuer so that
// GORM passes it as one value instead of expanding the slice into a list of placeholders.
type pgArray[T string | int] []T

// Dimensions, Index and IndexType make the array a pgtype.ArrayGetter, which pgx encodes in
// binary directly; without them pgx parsed the literal Value writes back into elements, which
// cost as much CPU as an ingest's writes.
func (a pgArray[T]) Dimensions() []pgtype.ArrayDimension { return pgtype.FlatArray[T](a).Dimensions() }
func (a pgArray[T]) Index(i int) any                     { return a[i] }
func (a pgArray[T]) IndexType() any                      { var v T; return v }

// Value writes the array literal: {"a","b"} with quotes and backslashes escaped, or {1,2}.
func (a pgArray[T]) Value() (driver.Value, error) {
	b := make([]byte, 0, 2+8*len(a))
	b = append(b, '{')
	for i, v := range a {
		if i > 0 {
			b = append(b, ',')
		}
		switch x := any(v).(type) {
		case int:
			b = strconv.AppendInt(b, int64(x), 10)
		case string:
			b = append(b, '"')
			for _, r := range x {
				if r == '"' || r == '\\' {
					b = append(b, '\\')
				}
				b = utf8.AppendRune(b, r)
			}
			b = append(b, '"')
		}
	}
	return string(append(b, '}')), nil
}

// isUniqueViolation tells an insert that met a row of the same key (as the driver reports it,
// or as GORM translates it).
func isUniqueViolation(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		c := liteErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isUnavailable tells database outages (refused or dropped connections, shutdowns, statement
// timeouts, a server out of a resource, a locked SQLite file) from errors in the statement
// itself.
func isUnavailable(err error) bool {
	if isDown(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		c := pgErr.Code
		return strings.HasPrefix(c, "08") || // connection exception
			c == "57P01" || c == "57P02" || c == "57P03" || // shutdown, cannot connect now
			c == "57014" || // statement timeout / cancelled
			strings.HasPrefix(c, "53") // insufficient resources: disk full, out of memory or lock table, too many connections, a configuration limit
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	// A connection the server or the network closed under a statement ends its read with EOF.
	if errors.As(err, &connErr) || errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		// The primary code (low byte) of an extended one such as SQLITE_BUSY_SNAPSHOT.
		c := liteErr.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "database is closed")
}
