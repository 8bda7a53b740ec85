package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync/atomic"

	"modernc.org/sqlite"
)

// openSQLitePool is the embedded store's pool, whose connections are replaced once they cannot
// write. SQLite opens a file it may not write read-only without a word (or fails to open it
// at all), and such a connection stays read-only for its life: kept in the pool, it would fail
// every write long after the file became writable again. So a connection that opened
// read-only is used for the request that opened it and then closed, and so is one that met a
// storage fault (faultOf): the pool opens a fresh one for the next request, which writes as
// soon as the file does.
func openSQLitePool(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(liteConnector{c}), nil
}

// liteDriverConn is what the store uses of the driver's connection: every interface
// database/sql looks for, so that the wrapper hides none of them, and IsReadOnly.
type liteDriverConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	IsReadOnly(schema string) (bool, error)
}

type liteConnector struct{ driver.Connector }

func (c liteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	conn, ok := dc.(liteDriverConn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("the SQLite driver's connection (%T) lacks a method the store needs", dc)
	}
	readOnly, err := conn.IsReadOnly("main")
	if err != nil {
		_ = dc.Close()
		return nil, err
	}
	lc := &liteConn{liteDriverConn: conn}
	lc.spent.Store(readOnly)
	return lc, nil
}

// liteConn is a connection that database/sql closes instead of keeping once it is spent:
// opened read-only, or failed with a storage fault.
type liteConn struct {
	liteDriverConn
	spent atomic.Bool
}

// check marks the connection spent when err is a storage fault, and returns err.
func (c *liteConn) check(err error) error {
	if err != nil {
		if _, ok := faultOf(err); ok {
			c.spent.Store(true)
		}
	}
	return err
}

func (c *liteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	r, err := c.liteDriverConn.ExecContext(ctx, query, args)
	return r, c.check(err)
}

func (c *liteConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	r, err := c.liteDriverConn.QueryContext(ctx, query, args)
	return r, c.check(err)
}

func (c *liteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.liteDriverConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, c.check(err)
	}
	return liteTx{Tx: tx, c: c}, nil
}

// IsValid is asked before the connection goes back to the pool.
func (c *liteConn) IsValid() bool { return !c.spent.Load() && c.liteDriverConn.IsValid() }

// ResetSession is asked before the connection is used again.
func (c *liteConn) ResetSession(ctx context.Context) error {
	if c.spent.Load() {
		return driver.ErrBadConn
	}
	return c.liteDriverConn.ResetSession(ctx)
}

type liteTx struct {
	driver.Tx
	c *liteConn
}

func (t liteTx) Commit() error   { return t.c.check(t.Tx.Commit()) }
func (t liteTx) Rollback() error { return t.c.check(t.Tx.Rollback()) }
