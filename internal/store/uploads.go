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
