package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"parley/internal/store"

	sqlite3 "modernc.org/sqlite/lib"
)

var _ store.Audit = (*Store)(nil)

// auditSchema is the migration step for the audit log (internal/audit).
// Rows are kept exactly as the log wrote them, times in Unix nanoseconds
// because the records' hashes cover them to the nanosecond. Nothing here
// references users: an account's audit trail outlives the account.
const auditSchema = `
CREATE TABLE audit_log (
	seq        INTEGER PRIMARY KEY,
	time       INTEGER NOT NULL, -- Unix nanoseconds
	actor      TEXT NOT NULL,
	action     TEXT NOT NULL,
	target     TEXT NOT NULL,
	ip         TEXT NOT NULL,
	outcome    TEXT NOT NULL,
	request_id TEXT NOT NULL,
	details    TEXT NOT NULL, -- JSON object of strings, '' for none
	prev       BLOB NOT NULL,
	hash       BLOB NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (time);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE TABLE audit_checkpoints (
	seq       INTEGER PRIMARY KEY,
	hash      BLOB NOT NULL,
	time      INTEGER NOT NULL, -- Unix nanoseconds
	signature BLOB NOT NULL
);
CREATE TABLE audit_cursors (
	sink TEXT PRIMARY KEY,
	seq  INTEGER NOT NULL
) WITHOUT ROWID;
`

// AppendAudit adds records and a checkpoint in one transaction.
func (s *Store) AppendAudit(ctx context.Context, recs []store.AuditRecord, cp *store.AuditCheckpoint) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, r := range recs {
			details, err := store.EncodeAuditDetails(r.Details)
			if err != nil {
				return err
			}
			_, err = tx.Exec(`INSERT INTO audit_log (seq, time, actor, action, target, ip, outcome, request_id, details, prev, hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				r.Seq, nanos(r.Time), r.Actor, r.Action, r.Target, r.IP, r.Outcome, r.RequestID, details, nonNil(r.Prev), nonNil(r.Hash))
			if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
				return store.ErrExists
			}
			if err != nil {
				return err
			}
		}
		if cp == nil {
			return nil
		}
		_, err := tx.Exec(`INSERT INTO audit_checkpoints (seq, hash, time, signature) VALUES (?, ?, ?, ?)`,
			cp.Seq, nonNil(cp.Hash), nanos(cp.Time), nonNil(cp.Signature))
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
			return store.ErrExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	return nil
}

const auditColumns = `seq, time, actor, action, target, ip, outcome, request_id, details, prev, hash`

// AuditHead returns the last record; store.ErrNotFound when there is none.
func (s *Store) AuditHead(ctx context.Context) (store.AuditRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq DESC LIMIT 1`)
	if err != nil {
		return store.AuditRecord{}, fmt.Errorf("sqlite: audit head: %w", err)
	}
	recs, err := scanAudit(rows)
	if err == nil && len(recs) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.AuditRecord{}, fmt.Errorf("sqlite: audit head: %w", err)
	}
	return recs[0], nil
}

// AuditRecords returns the records q selects in Seq order.
func (s *Store) AuditRecords(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error) {
	where, args := []string{"seq > ?"}, []any{q.After}
	if !q.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, nanos(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "time < ?"), append(args, nanos(q.Until))
	}
	if q.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, q.Actor)
	}
	if q.Action != "" {
		where, args = append(where, "action = ?"), append(args, q.Action)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE `+
		strings.Join(where, " AND ")+` ORDER BY seq LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit records: %w", err)
	}
	recs, err := scanAudit(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit records: %w", err)
	}
	return recs, nil
}

func scanAudit(rows *sql.Rows) ([]store.AuditRecord, error) {
	defer rows.Close()
	var recs []store.AuditRecord
	for rows.Next() {
		var r store.AuditRecord
		var t int64
		var details string
		if err := rows.Scan(&r.Seq, &t, &r.Actor, &r.Action, &r.Target, &r.IP, &r.Outcome, &r.RequestID,
			&details, &r.Prev, &r.Hash); err != nil {
			return nil, err
		}
		r.Time = fromUnixNano(t)
		var err error
		if r.Details, err = store.DecodeAuditDetails(details); err != nil {
			return nil, fmt.Errorf("record %d: %w", r.Seq, err)
		}
		recs = append(recs, r)
	}
	return recs, rows.Err()
}

// AuditCheckpoints returns checkpoints after a Seq in Seq order.
func (s *Store) AuditCheckpoints(ctx context.Context, after int64, limit int) ([]store.AuditCheckpoint, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT seq, hash, time, signature FROM audit_checkpoints
		WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit checkpoints: %w", err)
	}
	defer rows.Close()
	var cps []store.AuditCheckpoint
	for rows.Next() {
		var c store.AuditCheckpoint
		var t int64
		if err := rows.Scan(&c.Seq, &c.Hash, &t, &c.Signature); err != nil {
			return nil, fmt.Errorf("sqlite: audit checkpoints: %w", err)
		}
		c.Time = fromUnixNano(t)
		cps = append(cps, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: audit checkpoints: %w", err)
	}
	return cps, nil
}

// AuditCursor returns a sink's last forwarded Seq, 0 for none.
func (s *Store) AuditCursor(ctx context.Context, sink string) (int64, error) {
	var seq int64
	err := s.r.QueryRowContext(ctx, `SELECT seq FROM audit_cursors WHERE sink = ?`, sink).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: audit cursor %q: %w", sink, err)
	}
	return seq, nil
}

// SetAuditCursor records a sink's last forwarded Seq.
func (s *Store) SetAuditCursor(ctx context.Context, sink string, seq int64) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO audit_cursors (sink, seq) VALUES (?, ?)
			ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq`, sink, seq)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set audit cursor %q: %w", sink, err)
	}
	return nil
}
