package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"parley/internal/store"

	sqlite3 "modernc.org/sqlite/lib"
)

// This backend's store.ExecDB, for store.StmtMethods.

// Exec runs one statement through the writer (write).
func (d *sqlDB) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := (*Store)(d).write(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = affected(tx.Exec(q, args...))
		return err
	})
	return n, err
}

// Tx runs fn as one request of the writer (write), which undoes it alone
// when it fails.
func (d *sqlDB) Tx(ctx context.Context, fn func(store.Execer) error) error {
	return (*Store)(d).write(ctx, func(tx *sql.Tx) error { return fn(txExecer{tx}) })
}

// txExecer runs a write's statements with tx's context-free methods
// (request).
type txExecer struct{ tx *sql.Tx }

func (t txExecer) Exec(q string, args ...any) (int64, error) { return affected(t.tx.Exec(q, args...)) }

func (t txExecer) Query(q string, args []any, each func(func(...any) error) error) error {
	rows, err := t.tx.Query(q, args...)
	return eachRow(rows, err, each)
}

// eachRow calls each with the Scan of every row a query returned, unless
// the query failed, and closes the rows.
func eachRow(rows *sql.Rows, err error, each func(func(...any) error) error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	return store.EachRow(rows, each)
}

// affected is how many rows a statement that did not fail changed.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Stamp is unixNano(t): Unix nanoseconds, zero as now.
func (d *sqlDB) Stamp(t time.Time) any { return unixNano(t) }

// Time is nanos(t).
func (d *sqlDB) Time(t time.Time) any { return nanos(t) }

// MissingUser is missingUser.
func (d *sqlDB) MissingUser(err error) error { return missingUser(err) }

// OptionalTime is 0 for never, else nanos(t).
func (d *sqlDB) OptionalTime(t time.Time) any {
	if t.IsZero() {
		return int64(0)
	}
	return nanos(t)
}

// Duplicate turns a primary-key or unique violation into
// store.ErrExists.
func (d *sqlDB) Duplicate(err error) error {
	if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) || isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) {
		return store.ErrExists
	}
	return err
}

// TableNames: SQLite's own tables left out, FTS5's shadow tables
// included.
func (d *sqlDB) TableNames() string {
	return `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
}

// In reads list as a JSON array with json_each.
func (d *sqlDB) In(col string, n int, list any) (string, any) {
	b, _ := json.Marshal(list) // a slice of strings or integers always marshals
	return col + ` IN (SELECT value FROM json_each(?))`, string(b)
}
