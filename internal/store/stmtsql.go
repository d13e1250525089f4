package store

import (
	"context"
	"fmt"
	"time"
)

// ExecDB is how shared code writes through a backend, and how the
// backend keeps times and reports a missing account. What is written
// above it (StmtMethods) is the methods whose statements are the same in
// both backends but for their placeholders (QueryDB.Param) and time
// columns; a backend's own SQL (its dialect, its schema) stays in the
// backend.
type ExecDB interface {
	QueryDB
	// Exec runs one statement as a write of its own (SQLite: through the
	// single writer; PostgreSQL: committed alone; ErrClosed once the
	// store is closing) and returns how many rows it affected.
	Exec(ctx context.Context, q string, args ...any) (int64, error)
	// Tx runs fn's statements in one write transaction, undone when fn
	// fails.
	Tx(ctx context.Context, fn func(tx Execer) error) error
	// Stamp is t as a time column stores it, the zero time as now
	// (SQLite: Unix nanoseconds; PostgreSQL: timestamptz to the
	// microsecond). Time is t as it is, for comparing with a column.
	// A time column reads back into a ScanTime.
	Stamp(t time.Time) any
	Time(t time.Time) any
	// OptionalTime is t for a time column where the zero time means
	// never (SQLite: 0; PostgreSQL: NULL), which reads back into an
	// OptionalTime.
	OptionalTime(t time.Time) any
	// MissingUser turns the foreign-key violation of writing a row for
	// an account that does not exist into ErrNotFound.
	MissingUser(err error) error
	// Duplicate turns a primary-key or unique violation into ErrExists.
	Duplicate(err error) error
	// TableNames is a query of the name of every table of the store's
	// schema (TableRows).
	TableNames() string
	// In is the condition that col is one of list's values (a slice of
	// strings or integers), taking the list as the one parameter n, and
	// that parameter's argument (SQLite: a JSON array read by json_each,
	// clear of the bound-parameter limit; PostgreSQL: an array). One
	// statement serves any length.
	In(col string, n int, list any) (string, any)
}

// Execer runs the statements of one transaction (ExecDB.Tx).
type Execer interface {
	// Exec runs a statement and returns how many rows it affected.
	Exec(q string, args ...any) (int64, error)
	// Query runs a statement that returns rows (a SELECT, or a write
	// with RETURNING) and calls each with the Scan of every row.
	Query(q string, args []any, each func(scan func(...any) error) error) error
}

// ScanTime is the scan destination of a time column in either backend:
// SQLite gives Unix nanoseconds, PostgreSQL a timestamptz; both read back
// in UTC.
type ScanTime struct{ Time time.Time }

// Scan implements sql.Scanner (which pgx honours too).
func (t *ScanTime) Scan(src any) error {
	switch v := src.(type) {
	case int64:
		t.Time = time.Unix(0, v).UTC()
	case time.Time:
		t.Time = v.UTC()
	default:
		return fmt.Errorf("store: a time column holds %T", src)
	}
	return nil
}

// OptionalTime is the scan destination of a time column where never is
// NULL (PostgreSQL) or 0 (SQLite): never reads back as the zero time.
type OptionalTime struct{ Time time.Time }

// Scan implements sql.Scanner.
func (t *OptionalTime) Scan(src any) error {
	if src == nil || src == int64(0) {
		t.Time = time.Time{}
		return nil
	}
	var st ScanTime
	err := st.Scan(src)
	t.Time = st.Time
	return err
}

// StmtDB is what StmtMethods need of a backend.
type StmtDB interface {
	ExecDB
	ArchiveSearchDB
}

// StmtMethods is the store methods that are a statement or two, written
// once over a backend's StmtDB; a backend's Store embeds it (through
// SQLMethods). The methods are written beside their interfaces.
type StmtMethods struct {
	Backend string // in errors: "sqlite" or "postgres"
	DB      StmtDB
}

// fail is failed for this backend. QueryRows, queryValue and queryMap
// return nil or zero with an error, so a method may return what they read
// with fail(err, ...) as it is.
func (m StmtMethods) fail(err error, format string, args ...any) error {
	return failed(m.Backend, err, format, args...)
}

// failed is err as backend reports it from what a method did (format
// and args, e.g. "push registrations of %q"); nil for nil.
func failed(backend string, err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: "+format+": %w", append(append([]any{backend}, args...), err)...)
}

// limit is query (and its args) limited to max rows; max <= 0: every
// row.
func (m StmtMethods) limit(query string, args []any, max int) (string, []any) {
	if max <= 0 {
		return query, args
	}
	args = append(args, max)
	return query + ` LIMIT ` + m.DB.Param(len(args)), args
}

// mustAffect turns a write that matched no row into ErrNotFound.
func mustAffect(n int64, err error) error {
	if err == nil && n == 0 {
		return ErrNotFound
	}
	return err
}

// queryValue reads the one column of a query's one row; ErrNotFound for
// no row.
func queryValue[T any](ctx context.Context, db QueryDB, q string, args ...any) (T, error) {
	vs, err := QueryRows(ctx, db, scanValue[T], q, args...)
	if err == nil && len(vs) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return vs[0], nil
}

// scanValue reads a row of one column.
func scanValue[T any](scan func(...any) error) (v T, err error) {
	err = scan(&v)
	return v, err
}
