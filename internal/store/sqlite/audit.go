package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"parley/internal/store"

	sqlite3 "modernc.org/sqlite/lib"
)

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
			args, err := store.AuditArgs(r)
			if err != nil {
				return err
			}
			_, err = tx.Exec(`INSERT INTO audit_log (`+store.AuditColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
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
			store.AuditCheckpointArgs(*cp)...)
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

// Param: SQLite's placeholders are all ?.
func (d *sqlDB) Param(int) string { return "?" }

func (d *sqlDB) Query(ctx context.Context, q string, args []any, each func(func(...any) error) error) error {
	rows, err := d.r.QueryContext(ctx, q, args...)
	return eachRow(rows, err, each)
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
