package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The audit log's rows are the same in both backends; only the SQL dialect
// differs. These helpers are the row format, so the backends keep only SQL.

// AuditColumns are the audit_log columns in the order AuditArgs writes and
// ScanAuditRecord reads them.
const AuditColumns = `seq, time, actor, action, target, ip, outcome, request_id, details, prev, hash`

// AuditArgs are r's values in AuditColumns order: time in Unix nanoseconds
// (the record's hash covers it to the nanosecond), details encoded by
// EncodeAuditDetails, nil byte slices as empty ones (the columns are NOT NULL).
func AuditArgs(r AuditRecord) ([]any, error) {
	details, err := EncodeAuditDetails(r.Details)
	if err != nil {
		return nil, err
	}
	return []any{r.Seq, UnixNanos(r.Time), r.Actor, r.Action, r.Target, r.IP, r.Outcome, r.RequestID,
		details, nonNilBytes(r.Prev), nonNilBytes(r.Hash)}, nil
}

// AuditCheckpointArgs are c's values for the columns (seq, hash, time, signature).
func AuditCheckpointArgs(c AuditCheckpoint) []any {
	return []any{c.Seq, nonNilBytes(c.Hash), UnixNanos(c.Time), nonNilBytes(c.Signature)}
}

// AuditFilter is the rest of a query after "SELECT AuditColumns FROM
// audit_log " selecting q's records in Seq order, and its arguments;
// ph(n) is the backend's placeholder for the n-th argument.
func AuditFilter(q AuditQuery, ph func(n int) string) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" "+ph(len(args)))
	}
	add("seq >", q.After)
	if !q.Since.IsZero() {
		add("time >=", UnixNanos(q.Since))
	}
	if !q.Until.IsZero() {
		add("time <", UnixNanos(q.Until))
	}
	if q.Actor != "" {
		add("actor =", q.Actor)
	}
	if q.Action != "" {
		add("action =", q.Action)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	return "WHERE " + strings.Join(where, " AND ") + " ORDER BY seq LIMIT " + ph(len(args)), args
}

// ScanAuditRecord reads one row of AuditColumns with scan (the backend's
// rows.Scan).
func ScanAuditRecord(scan func(dest ...any) error) (AuditRecord, error) {
	var r AuditRecord
	var t int64
	var details string
	if err := scan(&r.Seq, &t, &r.Actor, &r.Action, &r.Target, &r.IP, &r.Outcome, &r.RequestID,
		&details, &r.Prev, &r.Hash); err != nil {
		return AuditRecord{}, err
	}
	r.Time = time.Unix(0, t).UTC()
	var err error
	if r.Details, err = DecodeAuditDetails(details); err != nil {
		return AuditRecord{}, fmt.Errorf("record %d: %w", r.Seq, err)
	}
	return r, nil
}

// ScanAuditCheckpoint reads one row of (seq, hash, time, signature) with scan.
func ScanAuditCheckpoint(scan func(dest ...any) error) (AuditCheckpoint, error) {
	var c AuditCheckpoint
	var t int64
	if err := scan(&c.Seq, &c.Hash, &t, &c.Signature); err != nil {
		return AuditCheckpoint{}, err
	}
	c.Time = time.Unix(0, t).UTC()
	return c, nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// QueryDB is how shared code reads through a backend (the audit log,
// pubsub and PEP nodes).
type QueryDB interface {
	// Param is the backend's placeholder for the n-th parameter (1-based).
	Param(n int) string
	// Query runs a read query and calls each with the Scan of every row.
	Query(ctx context.Context, q string, args []any, each func(scan func(...any) error) error) error
}

// AuditMethods is the audit log's reads (AuditHead, AuditRecords,
// AuditCheckpoints, AuditCursor) over a backend's QueryDB.
type AuditMethods struct {
	Backend string // in errors: "sqlite" or "postgres"
	DB      QueryDB
}

// QueryRows reads every row of a query through db with scan.
func QueryRows[T any](ctx context.Context, db QueryDB, scan func(func(...any) error) (T, error), q string, args ...any) ([]T, error) {
	var out []T
	if err := db.Query(ctx, q, args, appendRow(&out, scan)); err != nil {
		return nil, err
	}
	return out, nil
}

// AuditHead returns the last record; ErrNotFound when there is none.
func (m AuditMethods) AuditHead(ctx context.Context) (AuditRecord, error) {
	recs, err := QueryRows(ctx, m.DB, ScanAuditRecord, `SELECT `+AuditColumns+` FROM audit_log ORDER BY seq DESC LIMIT 1`)
	if err == nil && len(recs) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return AuditRecord{}, fmt.Errorf("%s: audit head: %w", m.Backend, err)
	}
	return recs[0], nil
}

// AuditRecords returns the records q selects in Seq order.
func (m AuditMethods) AuditRecords(ctx context.Context, q AuditQuery) ([]AuditRecord, error) {
	filter, args := AuditFilter(q, m.DB.Param)
	recs, err := QueryRows(ctx, m.DB, ScanAuditRecord, `SELECT `+AuditColumns+` FROM audit_log `+filter, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: audit records: %w", m.Backend, err)
	}
	return recs, nil
}

// AuditCheckpoints returns checkpoints after a Seq in Seq order.
func (m AuditMethods) AuditCheckpoints(ctx context.Context, after int64, limit int) ([]AuditCheckpoint, error) {
	cps, err := QueryRows(ctx, m.DB, ScanAuditCheckpoint, `SELECT seq, hash, time, signature FROM audit_checkpoints
		WHERE seq > `+m.DB.Param(1)+` ORDER BY seq LIMIT `+m.DB.Param(2), after, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: audit checkpoints: %w", m.Backend, err)
	}
	return cps, nil
}

// AuditCursor returns a sink's last forwarded Seq, 0 for none.
func (m AuditMethods) AuditCursor(ctx context.Context, sink string) (int64, error) {
	seqs, err := QueryRows(ctx, m.DB, func(scan func(...any) error) (int64, error) {
		var seq int64
		return seq, scan(&seq)
	}, `SELECT seq FROM audit_cursors WHERE sink = `+m.DB.Param(1), sink)
	if err != nil {
		return 0, fmt.Errorf("%s: audit cursor %q: %w", m.Backend, sink, err)
	}
	if len(seqs) == 0 {
		return 0, nil
	}
	return seqs[0], nil
}
