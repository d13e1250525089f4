package postgres

import (
	"context"
	"fmt"
	"time"

	"parley/internal/store"
)

// uploadsSchema is the migration step for HTTP file uploads (XEP-0363).
// As in the SQLite store, owner does not reference users: deleting an
// account must not drop the rows before the upload service has removed
// their files, so a trigger expires them instead, whoever deletes the
// account, and the service's cleanup removes rows and files together.
const uploadsSchema = `
CREATE TABLE uploads (
	id           text COLLATE "C" PRIMARY KEY,
	owner        text COLLATE "C" NOT NULL,
	name         text NOT NULL,
	size         bigint NOT NULL,
	content_type text NOT NULL,
	created      timestamptz NOT NULL,
	expires      timestamptz NOT NULL,
	state        smallint NOT NULL -- store.UploadState
);
CREATE INDEX uploads_owner ON uploads (owner, created);
CREATE INDEX uploads_expires ON uploads (expires);
CREATE FUNCTION uploads_owner_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE uploads SET expires = 'epoch' WHERE owner = OLD.username;
	RETURN OLD;
END
$$;
CREATE TRIGGER uploads_owner_deleted AFTER DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION uploads_owner_deleted();
`

// UploadUsage sums owner's live uploads.
func (s *Store) UploadUsage(ctx context.Context, owner string, since, now time.Time) (store.UploadUsage, error) {
	var u store.UploadUsage
	var oldest, next *time.Time
	err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(size), 0)::bigint, count(*),
		coalesce(sum(size) FILTER (WHERE created >= $2), 0)::bigint,
		min(created) FILTER (WHERE created >= $2), min(expires)
		FROM uploads WHERE owner = $1 AND expires > $3`, owner, since, now).Scan(&u.Bytes, &u.Count, &u.SinceBytes, &oldest, &next)
	if err != nil {
		return store.UploadUsage{}, fmt.Errorf("postgres: upload usage of %q: %w", owner, err)
	}
	if oldest != nil {
		u.SinceOldest = oldest.UTC()
	}
	if next != nil {
		u.NextExpiry = next.UTC()
	}
	return u, nil
}
