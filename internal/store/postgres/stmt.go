package postgres

import (
	"context"
	"fmt"
	"time"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

// This backend's store.ExecDB, for store.StmtMethods.

// Exec runs one statement, committed on its own (exec).
func (d *sqlDB) Exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := (*Store)(d).exec(ctx, q, args...)
	return tag.RowsAffected(), err
}

// Tx runs fn in one transaction (inTx).
func (d *sqlDB) Tx(ctx context.Context, fn func(store.Execer) error) error {
	return (*Store)(d).inTx(ctx, func(tx pgx.Tx) error { return fn(txExecer{ctx, tx}) })
}

// txExecer runs a transaction's statements under the context of the
// call that opened it.
type txExecer struct {
	ctx context.Context
	tx  pgx.Tx
}

func (t txExecer) Exec(q string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(t.ctx, q, args...)
	return tag.RowsAffected(), err
}

func (t txExecer) Query(q string, args []any, each func(func(...any) error) error) error {
	rows, err := t.tx.Query(t.ctx, q, args...)
	return eachRow(rows, err, each)
}

// eachRow calls each with the Scan of every row a query returned, unless
// the query failed, and closes the rows.
func eachRow(rows pgx.Rows, err error, each func(func(...any) error) error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	return store.EachRow(rows, each)
}

// Stamp is stamp(t): timestamptz to the microsecond, zero as now.
func (d *sqlDB) Stamp(t time.Time) any { return stamp(t) }

// Time is t: pgx sends it as a timestamptz.
func (d *sqlDB) Time(t time.Time) any { return t }

// MissingUser is missingUser.
func (d *sqlDB) MissingUser(err error) error { return missingUser(err) }

// OptionalTime is NULL for never, else t to the microsecond.
func (d *sqlDB) OptionalTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Truncate(time.Microsecond)
}

// Duplicate turns a unique violation (primary keys too) into
// store.ErrExists.
func (d *sqlDB) Duplicate(err error) error {
	if isCode(err, uniqueViolation) {
		return store.ErrExists
	}
	return err
}

// TableNames: the base tables of the current schema.
func (d *sqlDB) TableNames() string {
	return `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
}

// In compares col with an array parameter.
func (d *sqlDB) In(col string, n int, list any) (string, any) {
	return fmt.Sprintf("%s = ANY($%d)", col, n), list
}
