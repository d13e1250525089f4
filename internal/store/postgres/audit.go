package postgres

import (
	"context"
	"fmt"
	"strconv"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

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
			args, err := store.AuditArgs(r)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO audit_log (`+store.AuditColumns+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, args...)
		}
		if cp != nil {
			b.Queue(`INSERT INTO audit_checkpoints (seq, hash, time, signature) VALUES ($1, $2, $3, $4)`,
				store.AuditCheckpointArgs(*cp)...)
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

// Param is $n.
func (d *sqlDB) Param(n int) string { return "$" + strconv.Itoa(n) }

func (d *sqlDB) Query(ctx context.Context, q string, args []any, each func(func(...any) error) error) error {
	if (*Store)(d).closed() {
		return store.ErrClosed
	}
	rows, err := d.pool.Query(ctx, q, args...)
	return eachRow(rows, err, each)
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
