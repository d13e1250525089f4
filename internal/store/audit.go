package store

import (
	"context"
	"time"
)

// Audit keeps the tamper-evident audit log (internal/audit): records in
// sequence order, each carrying the hash of the one before it, signed
// checkpoints over that chain, and how far each forwarding sink got. The
// store does not compute or check hashes; it keeps exactly what it is
// given, so that a verifier can find what someone changed behind it.
type Audit interface {
	// AppendAudit adds records (ascending Seq, continuing the log) and a
	// checkpoint (nil for none) in one transaction; ErrExists if a Seq or
	// the checkpoint's Seq is taken, and then nothing is kept.
	AppendAudit(ctx context.Context, recs []AuditRecord, cp *AuditCheckpoint) error
	// AuditHead returns the record with the highest Seq; ErrNotFound when
	// the log is empty.
	AuditHead(ctx context.Context) (AuditRecord, error)
	// AuditRecords returns up to q.Limit records matching q in ascending
	// Seq order.
	AuditRecords(ctx context.Context, q AuditQuery) ([]AuditRecord, error)
	// AuditCheckpoints returns up to limit checkpoints with Seq > after in
	// ascending Seq order.
	AuditCheckpoints(ctx context.Context, after int64, limit int) ([]AuditCheckpoint, error)
	// AuditCursor returns the last Seq a sink forwarded; 0 if it has
	// forwarded nothing yet.
	AuditCursor(ctx context.Context, sink string) (int64, error)
	// SetAuditCursor records the last Seq a sink forwarded.
	SetAuditCursor(ctx context.Context, sink string, seq int64) error
}

// AuditRecord is one audit event as stored. Time keeps nanoseconds in
// every backend: it is part of what the record's hash covers.
type AuditRecord struct {
	Seq       int64
	Time      time.Time
	Actor     string
	Action    string
	Target    string
	IP        string
	Outcome   string
	RequestID string
	Details   map[string]string // nil when there are none
	Prev      []byte            // hash of the record before (zeros for the first)
	Hash      []byte            // hash of this record's canonical encoding
}

// AuditQuery selects records; zero fields do not restrict.
type AuditQuery struct {
	After  int64     // Seq greater than this
	Since  time.Time // Time at or after
	Until  time.Time // Time before
	Actor  string
	Action string
	Limit  int // at most this many; 0 means 1000
}

// AuditCheckpoint is a signature over one record's Seq and Hash.
type AuditCheckpoint struct {
	Seq       int64
	Hash      []byte
	Time      time.Time
	Signature []byte
}
