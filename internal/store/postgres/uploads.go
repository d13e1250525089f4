package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
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

// ReserveUpload records a slot; store.ErrExists for a taken ID.
func (s *Store) ReserveUpload(ctx context.Context, u store.Upload) error {
	_, err := s.exec(ctx, `INSERT INTO uploads (id, owner, name, size, content_type, created, expires, state)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		u.ID, u.Owner, u.Name, u.Size, u.ContentType, stamp(u.Created), stamp(u.Expires), int(store.UploadReserved))
	if isCode(err, uniqueViolation) {
		err = store.ErrExists
	}
	if err != nil {
		return fmt.Errorf("postgres: reserve upload of %q: %w", u.Owner, err)
	}
	return nil
}

// uploadColumns are the uploads columns scanUpload reads.
const uploadColumns = `id, owner, name, size, content_type, created, expires, state`

func scanUpload(scan func(...any) error) (store.Upload, error) {
	var u store.Upload
	var state int
	err := scan(&u.ID, &u.Owner, &u.Name, &u.Size, &u.ContentType, &u.Created, &u.Expires, &state)
	u.State, u.Created, u.Expires = store.UploadState(state), u.Created.UTC(), u.Expires.UTC()
	return u, err
}

// Upload returns one upload; store.ErrNotFound.
func (s *Store) Upload(ctx context.Context, id string) (store.Upload, error) {
	u, err := scanUpload(s.pool.QueryRow(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = $1`, id).Scan)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Upload{}, fmt.Errorf("postgres: upload: %w", err)
	}
	return u, nil
}

// ClaimUpload moves a live reserved upload to writing; store.ErrNotFound.
func (s *Store) ClaimUpload(ctx context.Context, id string, now, until time.Time) error {
	err := mustAffect(s.exec(ctx, `UPDATE uploads SET state = $1, expires = $2 WHERE id = $3 AND state = $4 AND expires > $5`,
		int(store.UploadWriting), stamp(until), id, int(store.UploadReserved), now))
	if err != nil {
		return fmt.Errorf("postgres: claim upload: %w", err)
	}
	return nil
}

// FinishUpload moves an upload being written to stored; store.ErrNotFound.
func (s *Store) FinishUpload(ctx context.Context, id string, created, expires time.Time) error {
	err := mustAffect(s.exec(ctx, `UPDATE uploads SET state = $1, created = $2, expires = $3 WHERE id = $4 AND state = $5`,
		int(store.UploadStored), stamp(created), stamp(expires), id, int(store.UploadWriting)))
	if err != nil {
		return fmt.Errorf("postgres: finish upload: %w", err)
	}
	return nil
}

// ReleaseUpload moves an upload being written back to reserved;
// store.ErrNotFound.
func (s *Store) ReleaseUpload(ctx context.Context, id string) error {
	err := mustAffect(s.exec(ctx, `UPDATE uploads SET state = $1 WHERE id = $2 AND state = $3`,
		int(store.UploadReserved), id, int(store.UploadWriting)))
	if err != nil {
		return fmt.Errorf("postgres: release upload: %w", err)
	}
	return nil
}

// UserUploads returns owner's stored uploads not expired at now, oldest
// first.
func (s *Store) UserUploads(ctx context.Context, owner string, now time.Time) ([]store.Upload, error) {
	out, err := collect(ctx, s, scanUpload, `SELECT `+uploadColumns+` FROM uploads
		WHERE owner = $1 AND state = $2 AND expires > $3 ORDER BY created, id`, owner, int(store.UploadStored), now)
	if err != nil {
		return nil, fmt.Errorf("postgres: uploads of %q: %w", owner, err)
	}
	return out, nil
}

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

// ExpiredUploads lists up to limit expired uploads, soonest expired first.
func (s *Store) ExpiredUploads(ctx context.Context, now time.Time, limit int) ([]string, error) {
	ids, err := s.queryStrings(ctx, `SELECT id FROM uploads WHERE expires <= $1 ORDER BY expires, id LIMIT $2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: expired uploads: %w", err)
	}
	return ids, nil
}

// DeleteUploads removes rows in one statement.
func (s *Store) DeleteUploads(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.exec(ctx, `DELETE FROM uploads WHERE id = ANY($1)`, ids); err != nil {
		return fmt.Errorf("postgres: delete uploads: %w", err)
	}
	return nil
}
