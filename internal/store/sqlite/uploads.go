package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"parley/internal/store"
)

// uploadsSchema is the migration step for HTTP file uploads (XEP-0363).
// owner does not reference users: deleting an account must not drop the
// rows before the upload service has removed their files, so a trigger
// expires them instead, whoever deletes the account (in-band, the CLI, the
// admin API), and the service's cleanup removes rows and files together.
const uploadsSchema = `
CREATE TABLE uploads (
	id           TEXT PRIMARY KEY,
	owner        TEXT NOT NULL,
	name         TEXT NOT NULL,
	size         INTEGER NOT NULL,
	content_type TEXT NOT NULL,
	created      INTEGER NOT NULL, -- Unix nanoseconds
	expires      INTEGER NOT NULL, -- Unix nanoseconds
	state        INTEGER NOT NULL  -- store.UploadState
) WITHOUT ROWID;
CREATE INDEX uploads_owner ON uploads (owner, created);
CREATE INDEX uploads_expires ON uploads (expires);
CREATE TRIGGER uploads_owner_deleted AFTER DELETE ON users BEGIN
	UPDATE uploads SET expires = 0 WHERE owner = old.username;
END;
`

// UploadUsage sums owner's live uploads.
func (s *Store) UploadUsage(ctx context.Context, owner string, since, now time.Time) (store.UploadUsage, error) {
	var u store.UploadUsage
	var oldest, next sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0), COUNT(*),
		COALESCE(SUM(CASE WHEN created >= ? THEN size ELSE 0 END), 0),
		MIN(CASE WHEN created >= ? THEN created END), MIN(expires)
		FROM uploads WHERE owner = ? AND expires > ?`,
		unixNano(since), unixNano(since), owner, unixNano(now)).Scan(&u.Bytes, &u.Count, &u.SinceBytes, &oldest, &next)
	if err != nil {
		return store.UploadUsage{}, fmt.Errorf("sqlite: upload usage of %q: %w", owner, err)
	}
	if oldest.Valid {
		u.SinceOldest = fromUnixNano(oldest.Int64)
	}
	if next.Valid {
		u.NextExpiry = fromUnixNano(next.Int64)
	}
	return u, nil
}
