package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A storage fault is the database failing at its files: a full disk, a file it may not write,
// an I/O error, a file it cannot open, no memory left. The statement was fine and may succeed
// once an operator frees space or restores permissions, so callers get SERVICE_UNAVAILABLE
// with a message naming the fault, never INTERNAL_SERVER_ERROR.
type storageFault struct {
	cause string // what the cause log keys on: a SQLite code or a SQLSTATE
	msg   string // for the caller
}

const (
	faultFull     = "the database cannot write: disk full"
	faultReadOnly = "the database cannot write: read-only"
	faultIO       = "the database cannot read or write its files: I/O error"
	faultOpen     = "the database cannot open its file"
	faultMemory   = "the database is out of memory"
)

// liteFaults are the SQLite primary codes of storage faults. The driver reports SQLITE_FULL
// for a full disk, SQLITE_READONLY for a write on a connection that opened a file it may not
// write (SQLite opens such a file read-only without a word), and SQLITE_CANTOPEN when a new
// connection cannot open the file at all (a read-only directory leaves no room for the -wal and
// -shm files beside it).
var liteFaults = map[int]storageFault{
	sqlite3.SQLITE_FULL:     {"SQLITE_FULL", faultFull},
	sqlite3.SQLITE_READONLY: {"SQLITE_READONLY", faultReadOnly},
	sqlite3.SQLITE_IOERR:    {"SQLITE_IOERR", faultIO},
	sqlite3.SQLITE_CANTOPEN: {"SQLITE_CANTOPEN", faultOpen},
	sqlite3.SQLITE_NOMEM:    {"SQLITE_NOMEM", faultMemory},
}

// pgFaults are the PostgreSQL storage faults by SQLSTATE.
var pgFaults = map[string]storageFault{
	"53100": {"SQLSTATE 53100", faultFull}, // disk_full
	"58030": {"SQLSTATE 58030", faultIO},   // io_error
}

// faultOf returns the storage fault err reports, if it is one.
func faultOf(err error) (storageFault, bool) {
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		f, ok := liteFaults[liteErr.Code()&0xff] // the primary code of an extended one
		return f, ok
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		f, ok := pgFaults[pgErr.Code]
		return f, ok
	}
	return storageFault{}, false
}

// causeOf is the key under which the cause log counts an unavailable database: the SQLSTATE or
// SQLite code, the system error of a network failure (connection refused, reset...) or a kind
// of failure, so that one failure met on many connections, each from a port of its own, is one
// cause; else the error's text.
func causeOf(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return "SQLSTATE " + pgErr.Code
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch c := liteErr.Code() & 0xff; c {
		case sqlite3.SQLITE_BUSY:
			return "SQLITE_BUSY"
		case sqlite3.SQLITE_LOCKED:
			return "SQLITE_LOCKED"
		default:
			return "SQLite code " + strconv.Itoa(c)
		}
	}
	var errno syscall.Errno
	var netErr net.Error
	switch {
	case errors.As(err, &errno):
		return errno.Error()
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed (EOF)"
	case errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone):
		return "bad connection"
	}
	return cutSQL(safeError(err), 120)
}

// noteWrite keeps the outcome of a write transaction for Ready: a storage fault marks the
// store as not writing, a commit marks it writing again.
func (s *Store) noteWrite(err error) {
	if err == nil {
		if s.writeFault.Load() != nil {
			s.writeFault.Store(nil)
		}
		return
	}
	if f, ok := faultOf(err); ok {
		s.writeFault.Store(&f)
	}
}

// probeSQL is the write of Ready: the one row of write_probe (migration 00003), counting.
const probeSQL = "INSERT INTO write_probe (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = write_probe.n + 1"

// Ready tells whether the store can serve: nil when the database answers a ping and, while the
// last write transaction failed for a storage fault (none committed since), when a one-row
// write commits. Otherwise it is the coded error (SERVICE_UNAVAILABLE) whose message names the
// reason. A healthy store costs a ping; a successful probe marks the store writing again.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return s.storeErr(ctx, err)
	}
	if s.writeFault.Load() == nil {
		return nil
	}
	return s.storeErr(ctx, s.transact(ctx, func(tx *gorm.DB) error { return tx.Exec(probeSQL).Error }))
}
