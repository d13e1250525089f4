package store

import (
	"context"
	"time"
)

// Uploads keeps the metadata of HTTP file uploads (XEP-0363); the bytes
// live in a blob store the upload service owns. A row is created when a
// slot is handed out (reserved), so that quotas count slots not yet used,
// and moves to writing while its PUT runs and to stored once the bytes are
// durable. Rows do not reference users: when an account is deleted its
// uploads are expired at once (by the backend, whoever deletes it), and
// the service's cleanup removes rows and files together.
type Uploads interface {
	// ReserveUpload records a slot in state UploadReserved; ErrExists if
	// its ID is taken.
	ReserveUpload(ctx context.Context, u Upload) error
	// Upload returns one upload; ErrNotFound.
	Upload(ctx context.Context, id string) (Upload, error)
	// ClaimUpload moves a reserved upload that has not expired at now to
	// UploadWriting, to expire at until (the PUT's deadline, so that the
	// cleanup leaves a long upload alone but removes one a crash cut
	// off); ErrNotFound if there is none (unknown, used, being written or
	// expired), so that only one PUT ever writes a slot.
	ClaimUpload(ctx context.Context, id string, now, until time.Time) error
	// FinishUpload moves an upload being written to UploadStored with a
	// new expiry; ErrNotFound unless it is being written.
	FinishUpload(ctx context.Context, id string, created, expires time.Time) error
	// ReleaseUpload moves an upload being written back to UploadReserved
	// (its PUT failed; the client may try again until the slot expires);
	// ErrNotFound unless it is being written.
	ReleaseUpload(ctx context.Context, id string) error
	// UserUploads returns owner's stored uploads not expired at now,
	// oldest first (an account's data export).
	UserUploads(ctx context.Context, owner string, now time.Time) ([]Upload, error)
	// UploadUsage sums owner's uploads not expired at now.
	UploadUsage(ctx context.Context, owner string, since, now time.Time) (UploadUsage, error)
	// ExpiredUploads returns up to limit IDs of uploads expired at now,
	// soonest expired first.
	ExpiredUploads(ctx context.Context, now time.Time, limit int) ([]string, error)
	// DeleteUploads removes rows (unknown IDs are ignored).
	DeleteUploads(ctx context.Context, ids []string) error
}

// UploadState is where an upload is in its life.
type UploadState int

// States of an upload.
const (
	UploadReserved UploadState = iota // slot handed out, no PUT yet
	UploadWriting                     // a PUT is writing the bytes
	UploadStored                      // the bytes are durable and served
)

// Upload is one file's metadata.
type Upload struct {
	ID          string // the slot's random identifier
	Owner       string // username of the uploader
	Name        string // file name as requested
	Size        int64  // bytes, as requested and as stored
	ContentType string
	Created     time.Time
	// Expires is when the slot's PUT URL stops working (reserved) or
	// when the file is removed (stored).
	Expires time.Time
	State   UploadState
}

// UploadUsage is what one account holds in uploads not yet expired,
// reserved slots included.
type UploadUsage struct {
	Bytes int64
	Count int
	// SinceBytes are those created at or after since; SinceOldest is the
	// creation time of the oldest of them (zero if none).
	SinceBytes  int64
	SinceOldest time.Time
	// NextExpiry is when the first of them expires (zero if none).
	NextExpiry time.Time
}

// uploadColumns are the uploads columns scanUpload reads, in the order
// insertUpload writes them.
const uploadColumns = `id, owner, name, size, content_type, created, expires, state`

func scanUpload(scan func(...any) error) (Upload, error) {
	var u Upload
	var created, expires ScanTime
	var state int
	err := scan(&u.ID, &u.Owner, &u.Name, &u.Size, &u.ContentType, &created, &expires, &state)
	u.Created, u.Expires, u.State = created.Time, expires.Time, UploadState(state)
	return u, err
}

// insertUpload inserts a record of u's values (its times as the backend
// encodes them); ErrExists for a taken ID.
func (m StmtMethods) insertUpload(ctx context.Context, u Upload, created, expires any) error {
	p := m.DB.Param
	_, err := m.DB.Exec(ctx, `INSERT INTO uploads (`+uploadColumns+`)
		VALUES (`+p(1)+`, `+p(2)+`, `+p(3)+`, `+p(4)+`, `+p(5)+`, `+p(6)+`, `+p(7)+`, `+p(8)+`)`,
		u.ID, u.Owner, u.Name, u.Size, u.ContentType, created, expires, int(u.State))
	return m.DB.Duplicate(err)
}

// ReserveUpload records a slot; ErrExists for a taken ID.
func (m StmtMethods) ReserveUpload(ctx context.Context, u Upload) error {
	u.State = UploadReserved
	err := m.insertUpload(ctx, u, m.DB.Stamp(u.Created), m.DB.Stamp(u.Expires))
	return m.fail(err, "reserve upload of %q", u.Owner)
}

// ImportUpload writes an upload record as it is; ErrExists.
func (m StmtMethods) ImportUpload(ctx context.Context, u Upload) error {
	err := m.insertUpload(ctx, u, m.DB.Time(u.Created), m.DB.Time(u.Expires))
	return m.fail(err, "import upload %q", u.ID)
}

// Upload returns one upload; ErrNotFound.
func (m StmtMethods) Upload(ctx context.Context, id string) (Upload, error) {
	us, err := QueryRows(ctx, m.DB, scanUpload, `SELECT `+uploadColumns+` FROM uploads WHERE id = `+m.DB.Param(1), id)
	if err == nil && len(us) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return Upload{}, m.fail(err, "upload")
	}
	return us[0], nil
}

// ListUploads returns every upload record by ID.
func (m StmtMethods) ListUploads(ctx context.Context) ([]Upload, error) {
	out, err := QueryRows(ctx, m.DB, scanUpload, `SELECT `+uploadColumns+` FROM uploads ORDER BY id`)
	return out, m.fail(err, "list uploads")
}

// ClaimUpload moves a live reserved upload to writing; ErrNotFound. now
// is Stamped like the stored times, which are whole microseconds in
// PostgreSQL, so that "expires > now" holds for the same rows.
func (m StmtMethods) ClaimUpload(ctx context.Context, id string, now, until time.Time) error {
	p := m.DB.Param
	err := mustAffect(m.DB.Exec(ctx, `UPDATE uploads SET state = `+p(1)+`, expires = `+p(2)+`
		WHERE id = `+p(3)+` AND state = `+p(4)+` AND expires > `+p(5),
		int(UploadWriting), m.DB.Stamp(until), id, int(UploadReserved), m.DB.Stamp(now)))
	return m.fail(err, "claim upload")
}

// FinishUpload moves an upload being written to stored; ErrNotFound.
func (m StmtMethods) FinishUpload(ctx context.Context, id string, created, expires time.Time) error {
	p := m.DB.Param
	err := mustAffect(m.DB.Exec(ctx, `UPDATE uploads SET state = `+p(1)+`, created = `+p(2)+`, expires = `+p(3)+`
		WHERE id = `+p(4)+` AND state = `+p(5),
		int(UploadStored), m.DB.Stamp(created), m.DB.Stamp(expires), id, int(UploadWriting)))
	return m.fail(err, "finish upload")
}

// ReleaseUpload moves an upload being written back to reserved;
// ErrNotFound.
func (m StmtMethods) ReleaseUpload(ctx context.Context, id string) error {
	p := m.DB.Param
	err := mustAffect(m.DB.Exec(ctx, `UPDATE uploads SET state = `+p(1)+` WHERE id = `+p(2)+` AND state = `+p(3),
		int(UploadReserved), id, int(UploadWriting)))
	return m.fail(err, "release upload")
}

// UserUploads returns owner's stored uploads not expired at now (Stamped,
// as in ClaimUpload), oldest first.
func (m StmtMethods) UserUploads(ctx context.Context, owner string, now time.Time) ([]Upload, error) {
	p := m.DB.Param
	out, err := QueryRows(ctx, m.DB, scanUpload, `SELECT `+uploadColumns+` FROM uploads
		WHERE owner = `+p(1)+` AND state = `+p(2)+` AND expires > `+p(3)+` ORDER BY created, id`,
		owner, int(UploadStored), m.DB.Stamp(now))
	return out, m.fail(err, "uploads of %q", owner)
}

// ExpiredUploads lists up to limit uploads expired at now (Stamped, as in
// ClaimUpload), soonest expired first. A stored file that an active legal
// hold covers (its owner held, its creation in the hold's range) is not
// listed, however expired and even once its account is deleted: it stays
// for e-discovery, out of reach of its URL (the upload service serves only
// unexpired files of existing, enabled accounts), until the hold is
// released and the next cleanup takes it.
func (m StmtMethods) ExpiredUploads(ctx context.Context, now time.Time, limit int) ([]string, error) {
	p := m.DB.Param
	ids, err := QueryRows(ctx, m.DB, scanValue[string], `SELECT id FROM uploads u WHERE expires <= `+p(1)+
		` AND NOT (state = `+p(2)+` AND `+HeldBy("u.owner", "u.created")+`)
		ORDER BY expires, id LIMIT `+p(3), m.DB.Stamp(now), int(UploadStored), limit)
	return ids, m.fail(err, "expired uploads")
}

// DeleteUploads removes rows in one statement (ExecDB.In).
func (m StmtMethods) DeleteUploads(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	in, list := m.DB.In("id", 1, ids)
	_, err := m.DB.Exec(ctx, `DELETE FROM uploads WHERE `+in, list)
	return m.fail(err, "delete uploads")
}
