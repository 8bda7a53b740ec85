package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
	"gorm.io/gorm/callbacks"
)

// On PostgreSQL, reads outside a transaction scan their rows on the pgx connection beneath
// database/sql. Through database/sql, pgx turns every column of every row into a
// driver.Value (a string or time.Time boxed in an interface) and database/sql converts that
// into the destination: on a page of 50 customers with their accounts and cards that was a
// quarter of the server's CPU. pgx scans straight into the destinations instead.
//
// GORM still builds the statement, and its callbacks (statement spans) and logger (slow and
// failed statements, statement counts) still see it: only the callback that sends a row
// query is replaced, and only for statements that carry a pgxScan. Inside a transaction, and
// on SQLite, rows go through database/sql as before.

// pgxScanKey is the GORM setting holding a statement's pgxScan.
const pgxScanKey = "portfolio:pgx_scan"

// pgxScan reads every row of a result.
type pgxScan func(rows pgx.Rows) error

// replaceRowQuery makes gdb's row queries use pgx where they can.
func replaceRowQuery(gdb *gorm.DB, pool *sql.DB) error {
	return gdb.Callback().Row().Replace("gorm:row", func(db *gorm.DB) {
		v, ok := db.Get(pgxScanKey)
		scan, _ := v.(pgxScan)
		if _, outside := db.Statement.ConnPool.(*sql.DB); !ok || scan == nil || !outside || db.Error != nil {
			callbacks.RowQuery(db)
			return
		}
		callbacks.BuildQuerySQL(db)
		if db.DryRun || db.Error != nil {
			return
		}
		db.RowsAffected = -1
		_ = db.AddError(queryPgx(db.Statement.Context, pool, db.Statement.SQL.String(), db.Statement.Vars, scan))
	})
}

// maxBadConns is how many pooled connections a query may find dead before it gives up, as
// database/sql's own retries do.
const maxBadConns = 2

// queryPgx runs a query on a pooled connection's pgx connection and scans its rows. A query
// that failed before reaching the server (pgconn.SafeToRetry: a connection the server or a
// proxy closed while it sat in the pool) discards that connection and runs on another, as
// database/sql does for its own queries; so does a query whose connection turned out dead
// before it returned a row (a backend terminated while the connection sat idle answers the
// next query with 57P01 and closes): a read is safe to send again.
func queryPgx(ctx context.Context, pool *sql.DB, text string, vars []any, scan pgxScan) error {
	for attempt := 0; ; attempt++ {
		var sent error
		conn, err := pool.Conn(ctx)
		if err != nil {
			return err
		}
		err = conn.Raw(func(driverConn any) error {
			c, ok := driverConn.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("the PostgreSQL pool holds a %T connection", driverConn)
			}
			dead := func(err error) error {
				if pgconn.SafeToRetry(err) || (ctx.Err() == nil && c.Conn().IsClosed()) {
					sent = err
					return driver.ErrBadConn // database/sql discards the connection
				}
				return err
			}
			rows, err := c.Conn().Query(ctx, text, vars...)
			if err != nil {
				return dead(err)
			}
			defer rows.Close()
			counted := &countedRows{Rows: rows}
			if err := scan(counted); err != nil {
				if counted.n == 0 {
					return dead(err)
				}
				return err
			}
			rows.Close()
			if err := rows.Err(); err != nil && counted.n == 0 {
				return dead(err)
			} else if err != nil {
				return err
			}
			return nil
		})
		_ = conn.Close()
		if sent == nil {
			return err
		}
		if attempt == maxBadConns {
			return sent
		}
	}
}

// countedRows counts the rows handed to a scan, so that a failed query is sent again only
// when its scan has seen none.
type countedRows struct {
	pgx.Rows
	n int
}

func (r *countedRows) Next() bool {
	if r.Rows.Next() {
		r.n++
		return true
	}
	return false
}

// scanPlanKey identifies a pgx scan plan: the column's type and format, and the destination's
// type.
type scanPlanKey struct {
	oid    uint32
	format int16
	dest   reflect.Type
}

// scanPlans keeps pgx's scan plans across results. pgx plans every column of every result
// again (a plan per column, kept for the rows of that result only), which for the
// one-to-three-row results of most reads was more allocation than the rows themselves. A plan
// depends only on the column's type, its format and the destination's type, and holds no
// state of a scan: it is the plan pgx would make, made once. Every connection has the same
// type map (none registers types of its own), so a plan made on one serves all.
var scanPlans sync.Map // scanPlanKey → pgtype.ScanPlan

// resultScanner scans the rows of one result as pgx's Rows.Scan does, with the plans kept in
// scanPlans. It looks a column's plan up there once, on the first row, and keeps it for the
// rows after while the destination's type stays the same: hashing the key of every cell (its
// reflect.Type) was a sixth of the server's CPU on a page of 50 customers with their accounts
// and cards.
type resultScanner struct {
	plans []pgtype.ScanPlan
	types []reflect.Type // the destination type each plan is for
}

// scan scans the current row into dests. An *optionalCell destination (an outer join's
// column) takes a NULL as a mark and anything else into its own destination.
func (s *resultScanner) scan(rows pgx.Rows, dests []any) error {
	fields := rows.FieldDescriptions()
	values := rows.RawValues()
	if len(fields) != len(dests) || len(values) != len(dests) {
		return rows.Scan(dests...) // pgx's own error
	}
	if len(s.plans) != len(dests) {
		s.plans = make([]pgtype.ScanPlan, len(dests))
		s.types = make([]reflect.Type, len(dests))
	}
	for i, dest := range dests {
		if c, ok := dest.(*optionalCell); ok {
			if c.null = values[i] == nil; c.null {
				continue
			}
			dest = c.dest
		}
		t := reflect.TypeOf(dest)
		plan := s.plans[i]
		if plan == nil || s.types[i] != t {
			plan = scanPlan(rows, fields[i], dest, t)
			s.plans[i], s.types[i] = plan, t
		}
		if err := plan.Scan(values[i], dest); err != nil {
			return pgx.ScanArgError{ColumnIndex: i, FieldName: fields[i].Name, Err: err}
		}
	}
	return nil
}

// scanPlan is the plan of a column's values into dest, of type t, from scanPlans.
func scanPlan(rows pgx.Rows, field pgconn.FieldDescription, dest any, t reflect.Type) pgtype.ScanPlan {
	key := scanPlanKey{oid: field.DataTypeOID, format: field.Format, dest: t}
	plan, ok := scanPlans.Load(key)
	if !ok {
		plan, _ = scanPlans.LoadOrStore(key, rows.Conn().TypeMap().PlanScan(key.oid, key.format, dest))
	}
	return plan.(pgtype.ScanPlan)
}
