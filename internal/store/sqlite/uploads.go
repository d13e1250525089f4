package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"parley/internal/store"

	sqlite3 "modernc.org/sqlite/lib"
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

// ReserveUpload records a slot; store.ErrExists for a taken ID.
func (s *Store) ReserveUpload(ctx context.Context, u store.Upload) error {
	err := s.insertUpload(ctx, u.ID, u.Owner, u.Name, u.Size, u.ContentType, unixNano(u.Created), unixNano(u.Expires), store.UploadReserved)
	if err != nil {
		return fmt.Errorf("sqlite: reserve upload of %q: %w", u.Owner, err)
	}
	return nil
}

// uploadColumns are the uploads columns scanUpload reads.
const uploadColumns = `id, owner, name, size, content_type, created, expires, state`

func scanUpload(scan func(...any) error) (store.Upload, error) {
	var u store.Upload
	var created, expires int64
	err := scan(&u.ID, &u.Owner, &u.Name, &u.Size, &u.ContentType, &created, &expires, &u.State)
	u.Created, u.Expires = fromUnixNano(created), fromUnixNano(expires)
	return u, err
}

// insertUpload inserts a record of the values of uploadColumns;
// store.ErrExists for a taken ID.
func (s *Store) insertUpload(ctx context.Context, values ...any) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO uploads (`+uploadColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, values...)
		if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
			return store.ErrExists
		}
		return err
	})
}

// Upload returns one upload; store.ErrNotFound.
func (s *Store) Upload(ctx context.Context, id string) (store.Upload, error) {
	u, err := scanUpload(s.r.QueryRowContext(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = ?`, id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Upload{}, fmt.Errorf("sqlite: upload: %w", err)
	}
	return u, nil
}

// ClaimUpload moves a live reserved upload to writing; store.ErrNotFound.
func (s *Store) ClaimUpload(ctx context.Context, id string, now, until time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`UPDATE uploads SET state = ?, expires = ? WHERE id = ? AND state = ? AND expires > ?`,
			store.UploadWriting, unixNano(until), id, store.UploadReserved, unixNano(now)))
	})
	if err != nil {
		return fmt.Errorf("sqlite: claim upload: %w", err)
	}
	return nil
}

// FinishUpload moves an upload being written to stored; store.ErrNotFound.
func (s *Store) FinishUpload(ctx context.Context, id string, created, expires time.Time) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`UPDATE uploads SET state = ?, created = ?, expires = ? WHERE id = ? AND state = ?`,
			store.UploadStored, unixNano(created), unixNano(expires), id, store.UploadWriting))
	})
	if err != nil {
		return fmt.Errorf("sqlite: finish upload: %w", err)
	}
	return nil
}

// ReleaseUpload moves an upload being written back to reserved;
// store.ErrNotFound.
func (s *Store) ReleaseUpload(ctx context.Context, id string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		return mustAffect(tx.Exec(`UPDATE uploads SET state = ? WHERE id = ? AND state = ?`,
			store.UploadReserved, id, store.UploadWriting))
	})
	if err != nil {
		return fmt.Errorf("sqlite: release upload: %w", err)
	}
	return nil
}

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

// UserUploads returns owner's stored uploads not expired at now, oldest
// first.
func (s *Store) UserUploads(ctx context.Context, owner string, now time.Time) ([]store.Upload, error) {
	out, err := queryAll(ctx, s, scanUpload, `SELECT `+uploadColumns+` FROM uploads
		WHERE owner = ? AND state = ? AND expires > ? ORDER BY created, id`, owner, store.UploadStored, unixNano(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: uploads of %q: %w", owner, err)
	}
	return out, nil
}

// ExpiredUploads lists up to limit expired uploads, soonest expired first.
func (s *Store) ExpiredUploads(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM uploads WHERE expires <= ? ORDER BY expires, id LIMIT ?`,
		unixNano(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: expired uploads: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: expired uploads: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: expired uploads: %w", err)
	}
	return ids, nil
}

// DeleteUploads removes rows in one transaction.
func (s *Store) DeleteUploads(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := `DELETE FROM uploads WHERE id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(q, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete uploads: %w", err)
	}
	return nil
}
