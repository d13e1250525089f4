package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

var _ store.Audit = (*Store)(nil)

// auditSchema is the migration step for the audit log (internal/audit).
// Times are bigint Unix nanoseconds, not timestamptz: the records' hashes
// cover them to the nanosecond and timestamptz keeps microseconds. Nothing
// references users: an account's audit trail outlives the account.
const auditSchema = `
CREATE TABLE audit_log (
	seq        bigint PRIMARY KEY,
	time       bigint NOT NULL,
	actor      text COLLATE "C" NOT NULL,
	action     text COLLATE "C" NOT NULL,
	target     text NOT NULL,
	ip         text NOT NULL,
	outcome    text NOT NULL,
	request_id text NOT NULL,
	details    text NOT NULL, -- JSON object of strings, '' for none
	prev       bytea NOT NULL,
	hash       bytea NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (time);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE TABLE audit_checkpoints (
	seq       bigint PRIMARY KEY,
	hash      bytea NOT NULL,
	time      bigint NOT NULL,
	signature bytea NOT NULL
);
CREATE TABLE audit_cursors (
	sink text COLLATE "C" PRIMARY KEY,
	seq  bigint NOT NULL
);
`

// AppendAudit adds records and a checkpoint in one transaction.
func (s *Store) AppendAudit(ctx context.Context, recs []store.AuditRecord, cp *store.AuditCheckpoint) error {
	if s.closed() {
		return store.ErrClosed
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var b pgx.Batch
		for _, r := range recs {
			details, err := store.EncodeAuditDetails(r.Details)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO audit_log (seq, time, actor, action, target, ip, outcome, request_id, details, prev, hash)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
				r.Seq, r.Time.UnixNano(), r.Actor, r.Action, r.Target, r.IP, r.Outcome, r.RequestID, details,
				nonNil(r.Prev), nonNil(r.Hash))
		}
		if cp != nil {
			b.Queue(`INSERT INTO audit_checkpoints (seq, hash, time, signature) VALUES ($1, $2, $3, $4)`,
				cp.Seq, nonNil(cp.Hash), cp.Time.UnixNano(), nonNil(cp.Signature))
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	if isCode(err, uniqueViolation) {
		err = store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	return nil
}

const auditColumns = `seq, time, actor, action, target, ip, outcome, request_id, details, prev, hash`

// AuditHead returns the last record; store.ErrNotFound when there is none.
func (s *Store) AuditHead(ctx context.Context) (store.AuditRecord, error) {
	recs, err := s.queryAudit(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq DESC LIMIT 1`)
	if err == nil && len(recs) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.AuditRecord{}, fmt.Errorf("postgres: audit head: %w", err)
	}
	return recs[0], nil
}

// AuditRecords returns the records q selects in Seq order.
func (s *Store) AuditRecords(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error) {
	where, args := []string{"seq > $1"}, []any{q.After}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	if !q.Since.IsZero() {
		add("time >=", q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		add("time <", q.Until.UnixNano())
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
	recs, err := s.queryAudit(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE `+strings.Join(where, " AND ")+
		` ORDER BY seq LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit records: %w", err)
	}
	return recs, nil
}

func (s *Store) queryAudit(ctx context.Context, sql string, args ...any) ([]store.AuditRecord, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
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
		r.Time = time.Unix(0, t).UTC()
		if r.Details, err = store.DecodeAuditDetails(details); err != nil {
			return nil, fmt.Errorf("record %d: %w", r.Seq, err)
		}
		recs = append(recs, r)
	}
	return recs, rows.Err()
}

// AuditCheckpoints returns checkpoints after a Seq in Seq order.
func (s *Store) AuditCheckpoints(ctx context.Context, after int64, limit int) ([]store.AuditCheckpoint, error) {
	rows, err := s.pool.Query(ctx, `SELECT seq, hash, time, signature FROM audit_checkpoints
		WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit checkpoints: %w", err)
	}
	defer rows.Close()
	var cps []store.AuditCheckpoint
	for rows.Next() {
		var c store.AuditCheckpoint
		var t int64
		if err := rows.Scan(&c.Seq, &c.Hash, &t, &c.Signature); err != nil {
			return nil, fmt.Errorf("postgres: audit checkpoints: %w", err)
		}
		c.Time = time.Unix(0, t).UTC()
		cps = append(cps, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: audit checkpoints: %w", err)
	}
	return cps, nil
}

// AuditCursor returns a sink's last forwarded Seq, 0 for none.
func (s *Store) AuditCursor(ctx context.Context, sink string) (int64, error) {
	var seq int64
	err := s.pool.QueryRow(ctx, `SELECT seq FROM audit_cursors WHERE sink = $1`, sink).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: audit cursor %q: %w", sink, err)
	}
	return seq, nil
}

// SetAuditCursor records a sink's last forwarded Seq.
func (s *Store) SetAuditCursor(ctx context.Context, sink string, seq int64) error {
	_, err := s.exec(ctx, `INSERT INTO audit_cursors (sink, seq) VALUES ($1, $2)
		ON CONFLICT (sink) DO UPDATE SET seq = excluded.seq`, sink, seq)
	if err != nil {
		return fmt.Errorf("postgres: set audit cursor %q: %w", sink, err)
	}
	return nil
}
