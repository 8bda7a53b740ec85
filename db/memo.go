package db

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"gorm.io/gorm"
	"gorm.io/gorm/callbacks"
	"gorm.io/gorm/clause"
)

// The hottest reads send statements whose SQL differs from one request to the next only by
// the values of its variables. GORM builds the SQL again for every one, byte by byte through
// its clause builders: on a card look-up that was 8 % of the server's CPU. Such a read
// describes its statement as stmtParts (its table, select list, joins, conditions, order and
// limit, each with its variables), and the parts with their variables left out name the SQL.
// The first statement of a name is built by GORM as any other; the ones after send that SQL
// with their own variables, in the order the parts give them, which is the order GORM writes
// them in (joins, conditions, limit).
//
// What is kept is checked when it is kept: the variables GORM wrote must be the parts'
// variables, one for one, or the name is marked as one GORM builds every time. (SQLite's
// dialector writes a LIMIT's value into the SQL, so there a statement with a LIMIT is always
// built.) With Config.VerifyStatements (the tests), GORM also builds every statement of a kept
// name, and the statement fails if its SQL or variables differ from the kept ones.

// stmtParts is a SELECT as GORM is asked to build it.
type stmtParts struct {
	table string
	sel   string        // the select list
	joins []clause.Expr // JOIN clauses, in order
	where []clause.Expr // conditions, ANDed in order
	order string
	limit int // 0: none
}

// name is the parts without the values of their variables: the SQL of two statements of one
// name is the same.
func (p *stmtParts) name() string {
	var b strings.Builder
	b.Grow(len(p.table) + len(p.sel) + len(p.order) + 64*(len(p.joins)+len(p.where)))
	b.WriteString(p.table)
	b.WriteByte(0)
	b.WriteString(p.sel)
	for _, exprs := range [][]clause.Expr{p.joins, p.where} {
		b.WriteByte(0)
		for _, e := range exprs {
			b.WriteString(e.SQL)
			b.WriteByte(1)
			for _, v := range e.Vars {
				// GORM writes a slice as a list of placeholders, a Valuer and anything else
				// as one: the kind of each variable is part of the name, and what GORM wrote
				// as a list is not kept (see keepBuiltSQL).
				b.WriteByte(byte(reflect.ValueOf(v).Kind()))
			}
			b.WriteByte(1)
		}
	}
	b.WriteByte(0)
	b.WriteString(p.order)
	b.WriteByte(0)
	if p.limit > 0 {
		b.WriteByte('L')
	}
	return b.String()
}

// vars are the parts' variables in the order GORM writes them.
func (p *stmtParts) vars() []any {
	var out []any
	for _, exprs := range [][]clause.Expr{p.joins, p.where} {
		for _, e := range exprs {
			out = append(out, e.Vars...)
		}
	}
	if p.limit > 0 {
		out = append(out, p.limit)
	}
	return out
}

// chain is the GORM query of the parts on tx.
func (p *stmtParts) chain(tx *gorm.DB) *gorm.DB {
	tx = tx.Table(p.table)
	for _, j := range p.joins {
		tx = tx.Joins(j.SQL, j.Vars...)
	}
	for _, w := range p.where {
		tx = tx.Where(w)
	}
	if p.order != "" {
		tx = tx.Order(p.order)
	}
	if p.limit > 0 {
		tx = tx.Limit(p.limit)
	}
	return tx.Select(p.sel)
}

// maxKeptStatements bounds the statements kept: a store sends a few dozen shapes of reads.
const maxKeptStatements = 1024

// keptStatements are the SQL of built statements by their parts' names; "" for a name whose
// statements GORM builds every time.
type keptStatements struct {
	mu      sync.RWMutex
	sql     map[string]string
	clauses []string // the clauses GORM built the kept SQL of
	verify  bool
}

// keptSQLKey is the GORM setting holding a statement's *keptSQL.
const keptSQLKey = "portfolio:kept_sql"

// keptSQL is what the callback needs to keep, or check, the SQL GORM built.
type keptSQL struct {
	kept *keptStatements
	name string
	vars []any
}

// query is the GORM query of p: the kept SQL of its name with p's variables, or else p's
// chain, whose SQL is kept once GORM has built it. Verifying, GORM builds the SQL of a kept
// name too (without sending it), and the statement fails if it differs.
func (k *keptStatements) query(tx *gorm.DB, p *stmtParts) *gorm.DB {
	name, vars := p.name(), p.vars()
	k.mu.RLock()
	text, ok := k.sql[name]
	k.mu.RUnlock()
	switch {
	case !ok:
		return p.chain(tx).Set(keptSQLKey, &keptSQL{kept: k, name: name, vars: vars})
	case text == "":
		return p.chain(tx) // GORM writes these otherwise than the parts: built every time
	}
	if k.verify {
		dry := p.chain(tx.Session(&gorm.Session{DryRun: true}))
		dry.Statement.BuildClauses = k.clauses // as the row query's processor sets them
		callbacks.BuildQuerySQL(dry)
		if err := checkKept(text, dry.Statement.SQL.String(), sameVars(dry.Statement.Vars, vars)); err != nil {
			tx = tx.Session(&gorm.Session{})
			_ = tx.AddError(err)
			return tx
		}
	}
	tx = tx.Table(p.table)
	tx.Statement.SQL.WriteString(text)
	tx.Statement.Vars = vars
	return tx
}

// keepBuiltSQL is the callback, before a row query is sent, that builds its SQL and keeps it
// when the statement came from stmtParts and GORM wrote the parts' variables, one for one.
// Verifying, it fails a statement whose name is kept with other SQL or other variables.
func keepBuiltSQL(db *gorm.DB) {
	v, ok := db.Get(keptSQLKey)
	ks, _ := v.(*keptSQL)
	if !ok || ks == nil || db.Error != nil {
		return
	}
	callbacks.BuildQuerySQL(db) // the row query's own build then finds the SQL written
	if db.Error != nil {
		return
	}
	text, same := db.Statement.SQL.String(), sameVars(db.Statement.Vars, ks.vars)
	k := ks.kept
	k.mu.Lock()
	defer k.mu.Unlock()
	was, kept := k.sql[ks.name]
	switch {
	case kept && was != "": // two first statements of a name at once
		if err := checkKept(was, text, same); err != nil {
			_ = db.AddError(err)
		}
	case !kept && len(k.sql) < maxKeptStatements:
		if k.sql == nil {
			k.sql = map[string]string{}
			k.clauses = db.Statement.BuildClauses
		}
		if !same {
			text = "" // built every time
		}
		k.sql[ks.name] = text
	}
}

// checkKept is the error of a statement whose name is kept with SQL other than GORM built for
// it, or with other variables.
func checkKept(kept, built string, sameVars bool) error {
	if kept == built && sameVars {
		return nil
	}
	return fmt.Errorf("the kept SQL of a statement is not GORM's (the same variables: %v):\nkept:  %s\nbuilt: %s", sameVars, kept, built)
}

// sameVars reports whether GORM's variables are the parts' own, one for one.
func sameVars(built, own []any) bool {
	if len(built) != len(own) {
		return false
	}
	for i := range built {
		if !reflect.DeepEqual(built[i], own[i]) {
			return false
		}
	}
	return true
}

// keptQuery is s's GORM query of p, for ctx.
func (s *Store) keptQuery(ctx context.Context, p *stmtParts) *gorm.DB {
	return s.kept.query(s.db(ctx), p)
}
