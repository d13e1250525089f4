package store

import (
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
