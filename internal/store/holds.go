package store

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// LegalHolds keeps legal holds and the archived originals they keep
// (docs/design/04_store.md, "Tombstones"; docs/compliance-guide.md).
//
// A hold names accounts (usernames) and rooms (bare JIDs) and an optional
// range of message stamps. While it is active, every archived message of
// those archives within the range that is retracted or moderated
// (RetractArchived), or deleted (DeleteArchive, DeleteUser, a room
// destroyed), is first copied, in the same transaction, into the backend's
// archive_held table, which no user query reads: users see the tombstone
// or nothing, compliance reads the original with HeldMessages. Retention
// (the Retention interface) never deletes what an active hold covers.
// Releasing a hold keeps its record (Released) and the originals already
// kept.
type LegalHolds interface {
	// CreateHold records an active hold and returns its ID (h.ID and
	// h.Released are ignored; a zero h.Created is now).
	CreateHold(ctx context.Context, h LegalHold) (int64, error)
	// Hold returns one hold; ErrNotFound.
	Hold(ctx context.Context, id int64) (LegalHold, error)
	// ListHolds returns every hold, released ones included, oldest first.
	ListHolds(ctx context.Context) ([]LegalHold, error)
	// ReleaseHold ends an active hold at `at`, by `by`; ErrNotFound if
	// there is no such hold or it was already released.
	ReleaseHold(ctx context.Context, id int64, by string, at time.Time) error
	// HeldMessages returns originals kept under a hold, in the order they
	// were kept: the compliance read (e-discovery) of what users no
	// longer see.
	HeldMessages(ctx context.Context, q HeldQuery) ([]HeldMessage, error)
	// ImportHold stores a hold as it is (ID, creation and release
	// included; ErrExists for a taken ID); later holds are numbered after
	// the highest. ImportHeld stores a kept original as it is (its Seq is
	// the destination's own; ErrExists if its owner and ID are kept
	// already). For parley migrate, which copies them in order.
	ImportHold(ctx context.Context, h LegalHold) error
	ImportHeld(ctx context.Context, m HeldMessage) error
}

// LegalHold is one hold. Users and Rooms are sorted and unique.
type LegalHold struct {
	ID        int64
	Name      string
	Reason    string
	CreatedBy string // who placed it: "cli", "admin-token:ID", ...
	Created   time.Time
	Users     []string  // usernames whose archives it covers
	Rooms     []string  // room bare JIDs whose archives it covers
	From, To  time.Time // inclusive bounds on a message's stamp; zero: open
	// Released is when it was lifted (zero: active), by ReleasedBy.
	Released   time.Time
	ReleasedBy string
}

// Active reports whether the hold has not been released.
func (h LegalHold) Active() bool { return h.Released.IsZero() }

// Covers reports whether the hold, if active, covers a message of owner's
// archive (or an offline message or upload of owner) stamped at stamp: the
// rule the backends apply in SQL.
func (h LegalHold) Covers(owner string, stamp time.Time) bool {
	if !h.Active() || (!h.From.IsZero() && stamp.Before(h.From)) || (!h.To.IsZero() && stamp.After(h.To)) {
		return false
	}
	for _, l := range [][]string{h.Users, h.Rooms} {
		for _, x := range l {
			if x == owner {
				return true
			}
		}
	}
	return false
}

// Why an original was kept.
const (
	HeldRetracted = "retracted" // replaced by its tombstone (retraction, moderation)
	HeldDeleted   = "deleted"   // its archive, account or room was deleted
)

// HeldMessage is an original kept under a hold.
type HeldMessage struct {
	Seq     int64 // order of keeping; HeldQuery.After pages on it
	Message ArchivedMessage
	Held    time.Time // when it was kept
	Cause   string    // HeldRetracted or HeldDeleted
}

// HeldQuery selects kept originals; every field is optional.
type HeldQuery struct {
	Owner      string    // one archive's (username or room JID)
	Start, End time.Time // inclusive bounds on the message's stamp
	After      int64     // only those with Seq > After
	Limit      int       // at most this many; 0 means 1000
}

// Retention deletes what retention policies no longer keep
// (internal/retention) in bounded batches: each call examines at most
// limit rows, in the table's order after the cursor `after` ("" from the
// start), in one transaction, and removes those that no active legal hold
// covers. Held rows are passed over, not examined again by the next call,
// so a pass costs one walk of the candidates however many are held.
type Retention interface {
	// ExpireArchive deletes archived messages of the owners sc selects
	// stamped before `before`.
	ExpireArchive(ctx context.Context, sc RetentionScope, before time.Time, after string, limit int) (Expired, error)
	// ExpireOffline deletes offline messages of the accounts sc selects
	// stored before `before`.
	ExpireOffline(ctx context.Context, sc RetentionScope, before time.Time, after string, limit int) (Expired, error)
	// ExpireUploads marks stored uploads of the accounts sc selects,
	// created before `before` and not yet expired at now, as expired at
	// now: the upload service's cleanup then removes their files and rows.
	ExpireUploads(ctx context.Context, sc RetentionScope, before, now time.Time, after string, limit int) (Expired, error)
}

// Expired is what one Expire call did.
type Expired struct {
	Removed int    // rows deleted (uploads: marked expired)
	Next    string // the cursor after the rows examined: the next call's after
	Done    bool   // fewer than limit rows were left to examine
}

// RetentionScope selects owners: those in Owners when it is not nil,
// else every owner but those in Except.
type RetentionScope struct {
	Owners []string
	Except []string
}

// Written beside the interfaces (measure.go's rule: one method each).

// HeldBy is the SQL condition, the same in both backends, "an active
// legal hold covers the row whose owner and stamp are these SQL
// expressions". Open ends of a hold's range are NULL.
func HeldBy(owner, stamp string) string {
	return `EXISTS (SELECT 1 FROM legal_hold_targets t JOIN legal_holds h ON h.id = t.hold
		WHERE t.target = ` + owner + ` AND h.released IS NULL
		AND (h.from_stamp IS NULL OR ` + stamp + ` >= h.from_stamp)
		AND (h.to_stamp IS NULL OR ` + stamp + ` <= h.to_stamp))`
}

// IntCursor reads a Retention cursor over an integer key ("" is the
// start).
func IntCursor(after string) (int64, error) {
	if after == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(after, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("store: bad retention cursor %q", after)
	}
	return n, nil
}

// HoldDB is what a backend does to store and read a hold, in its own
// SQL.
type HoldDB interface {
	ExecDB
	// HoldColumns is the select list of a legal_holds row that ScanHold
	// reads, with its targets.
	HoldColumns() string
	// ScanHold reads a row of HoldColumns (empty target lists may come
	// back empty or nil).
	ScanHold(scan func(...any) error) (LegalHold, error)
	// InsertHold stores h with its targets under h.ID, or under a new ID
	// when it is 0, and returns the ID; ErrExists for a taken ID.
	InsertHold(ctx context.Context, h LegalHold) (int64, error)
	// ExpireMessages deletes, of up to limit messages of table (archive
	// or offline) after from in the order of its integer key column and
	// stamped before `before`, those no hold covers of the owners (owner
	// column) sc selects.
	ExpireMessages(ctx context.Context, table, key, owner string, sc RetentionScope, before time.Time, from int64, limit int) (Expired, error)
}

// HoldMethods is CreateHold, ImportHold, Hold, ListHolds, ReleaseHold,
// ExpireArchive and ExpireOffline over a backend's HoldDB.
type HoldMethods struct {
	Backend string // in errors: "sqlite" or "postgres"
	DB      HoldDB
}

// CreateHold records an active hold.
func (m HoldMethods) CreateHold(ctx context.Context, h LegalHold) (int64, error) {
	h.ID, h.Released, h.ReleasedBy = 0, time.Time{}, ""
	id, err := m.DB.InsertHold(ctx, h)
	if err != nil {
		return 0, fmt.Errorf("%s: create hold %q: %w", m.Backend, h.Name, err)
	}
	return id, nil
}

// ImportHold stores a hold under its ID; later holds are numbered after
// the highest.
func (m HoldMethods) ImportHold(ctx context.Context, h LegalHold) error {
	if _, err := m.DB.InsertHold(ctx, h); err != nil {
		return fmt.Errorf("%s: import hold %d: %w", m.Backend, h.ID, err)
	}
	return nil
}

// ExpireArchive deletes old archived messages no hold covers, a batch at
// a time in archive order.
func (m HoldMethods) ExpireArchive(ctx context.Context, sc RetentionScope, before time.Time, after string, limit int) (Expired, error) {
	return m.expireMessages(ctx, "archive", "seq", "owner", sc, before, after, limit)
}

// ExpireOffline deletes old offline messages no hold covers.
func (m HoldMethods) ExpireOffline(ctx context.Context, sc RetentionScope, before time.Time, after string, limit int) (Expired, error) {
	return m.expireMessages(ctx, "offline", "id", "username", sc, before, after, limit)
}

// expireMessages is HoldDB.ExpireMessages after the cursor after.
func (m HoldMethods) expireMessages(ctx context.Context, table, key, owner string, sc RetentionScope, before time.Time, after string, limit int) (Expired, error) {
	from, err := IntCursor(after)
	if err != nil {
		return Expired{}, err
	}
	return m.DB.ExpireMessages(ctx, table, key, owner, sc, before, from, limit)
}

// ReleaseHold ends an active hold; ErrNotFound.
func (m HoldMethods) ReleaseHold(ctx context.Context, id int64, by string, at time.Time) error {
	p := m.DB.Param
	err := mustAffect(m.DB.Exec(ctx, `UPDATE legal_holds SET released = `+p(1)+`, released_by = `+p(2)+`
		WHERE id = `+p(3)+` AND released IS NULL`, m.DB.Stamp(at), by, id))
	return failed(m.Backend, err, "release hold %d", id)
}

// scanHold is the backend's ScanHold with no target as nil.
func (m HoldMethods) scanHold(scan func(...any) error) (LegalHold, error) {
	h, err := m.DB.ScanHold(scan)
	if len(h.Users) == 0 {
		h.Users = nil
	}
	if len(h.Rooms) == 0 {
		h.Rooms = nil
	}
	return h, err
}

// Hold returns one hold; ErrNotFound.
func (m HoldMethods) Hold(ctx context.Context, id int64) (LegalHold, error) {
	hs, err := QueryRows(ctx, m.DB, m.scanHold, `SELECT `+m.DB.HoldColumns()+` FROM legal_holds WHERE id = `+m.DB.Param(1), id)
	if err == nil && len(hs) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return LegalHold{}, fmt.Errorf("%s: hold %d: %w", m.Backend, id, err)
	}
	return hs[0], nil
}

// ListHolds returns every hold, oldest first.
func (m HoldMethods) ListHolds(ctx context.Context) ([]LegalHold, error) {
	out, err := QueryRows(ctx, m.DB, m.scanHold, `SELECT `+m.DB.HoldColumns()+` FROM legal_holds ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("%s: list holds: %w", m.Backend, err)
	}
	return out, nil
}

// SQLMethods are the store methods that both SQL backends implement the
// same way above their own statements; a backend's Store embeds them.
type SQLMethods struct {
	NodeMethods
	SettingMethods
	HoldMethods
	AuditMethods
	StmtMethods
}

// SQLDB is every statement SQLMethods needs of a backend.
type SQLDB interface {
	NodeDB
	SettingDB
	HoldDB
	QueryDB
	StmtDB
}

// NewSQLMethods makes the shared methods of backend ("sqlite",
// "postgres") over its statements.
func NewSQLMethods(backend string, db SQLDB) SQLMethods {
	return SQLMethods{NodeMethods{backend, db}, SettingMethods{backend, db}, HoldMethods{backend, db}, AuditMethods{backend, db},
		StmtMethods{backend, db}}
}
