package store

import (
	"context"
	"fmt"
	"time"
)

// MaxAppend is the most messages one AppendArchive or QueueArchive call
// may hold: six bound values a row must stay far below SQLite's limit on
// variables in one statement, and both backends take the same calls.
const MaxAppend = 1000

// EarlyAppend is the outcome of an append known before it is queued: a
// channel holding nil for no message, or an error for more than
// MaxAppend; nil when the append must be queued.
func EarlyAppend(msgs []ArchivedMessage) <-chan error {
	var err error
	switch {
	case len(msgs) == 0:
	case len(msgs) > MaxAppend:
		err = fmt.Errorf("at most %d at once", MaxAppend)
	default:
		return nil
	}
	done := make(chan error, 1)
	done <- err
	return done
}

// Archives keeps message archives (XEP-0313) of users and rooms.
//
// Messages are ordered by the backend in the order they were appended (a
// per-backend sequence), not by their ids: two ids stamped in the same
// millisecond by concurrent senders need not sort in arrival order, and a
// client that syncs "everything after the last id I saw" must never miss
// one appended later.
type Archives interface {
	// AppendArchive stores messages and returns once they are durable
	// (committed); concurrent calls share one transaction (group commit).
	// Messages of one call keep their order. ErrNotFound if an owner does
	// not exist (and nothing of the call is stored); ErrExists if an owner
	// already has a message with that ID.
	AppendArchive(ctx context.Context, msgs []ArchivedMessage) error
	// QueueArchive queues msgs like AppendArchive but returns at once; the
	// channel receives the outcome once the write has committed (or
	// failed). Queues made by one goroutine are archived in the order it
	// made them, so a session's messages keep their order while it goes on
	// without waiting for each commit.
	QueueArchive(ctx context.Context, msgs []ArchivedMessage) <-chan error
	// SyncArchive returns once every append queued before the call has
	// committed, so that a query that follows sees every message that was
	// delivered before it was asked.
	SyncArchive(ctx context.Context) error
	// QueryArchive returns one page of an owner's archive. ErrNotFound if
	// a referenced id (After, Before, AfterID, BeforeID, any of IDs) is not
	// in the owner's archive.
	QueryArchive(ctx context.Context, owner string, q ArchiveQuery) (ArchivePage, error)
	// ArchiveMetadata returns the first and last message of an owner's
	// archive; the zero value when it is empty.
	ArchiveMetadata(ctx context.Context, owner string) (ArchiveMetadata, error)
	// RetractArchived replaces an owner's archived message with its
	// tombstone: the stanza that records that it was retracted (XEP-0424)
	// or moderated (XEP-0425), built by the caller from the original
	// (see mam.Tombstone). The message keeps its id, its place in the
	// archive, its stamp and its With; only the stanza changes, and the
	// message leaves the full-text index. ErrNotFound if owner has no
	// message id. It is the one operation that removes archived content,
	// so that a legal hold can later keep the original here (in a
	// compliance table the users never read) while users see the
	// tombstone; see docs/design/04_store.md.
	RetractArchived(ctx context.Context, owner, id string, tombstone []byte) error
	// DeleteArchive removes every message of an owner (DeleteUser does it
	// too, with the account).
	DeleteArchive(ctx context.Context, owner string) error
	// ArchivePrefs returns an owner's archiving preferences (XEP-0441);
	// ErrNotFound when none were ever set.
	ArchivePrefs(ctx context.Context, owner string) (ArchivePrefs, error)
	// SetArchivePrefs replaces an owner's preferences; ErrNotFound for an
	// unknown owner.
	SetArchivePrefs(ctx context.Context, owner string, p ArchivePrefs) error
}

// ArchivedMessage is one archived stanza.
type ArchivedMessage struct {
	Owner  string    // username whose archive holds it
	ID     string    // the XEP-0359 stanza-id by the owner's bare JID; unique per owner
	With   string    // bare JID of the other party
	Stamp  time.Time // when the server archived it; zero means now
	Stanza []byte    // the raw <message/>, with xmlns='jabber:client'
	// Text is what full-text search sees (the body; empty for messages
	// without one).
	Text string
}

// ArchiveQuery selects messages of one owner. Every field is optional and
// all given filters apply together; the ids in After, Before, AfterID and
// BeforeID are exclusive bounds.
type ArchiveQuery struct {
	With       string    // bare JID of the other party
	Start, End time.Time // inclusive bounds on Stamp
	Text       string    // full-text: every word must occur (case- and accent-insensitive)
	AfterID    string    // XEP-0313 #extended after-id
	BeforeID   string    // XEP-0313 #extended before-id
	IDs        []string  // only these messages (#extended ids)

	// Paging (XEP-0059). Without Before/Last the page starts at the
	// oldest matching message after After; with them it ends at the
	// newest matching message before Before.
	After  string
	Before string
	Last   bool // page backwards from the end (<before/> empty)
	Limit  int  // messages per page; 0 returns none (only Count)
	// Count asks for the number of messages matching the filters,
	// regardless of paging (XEP-0059 <count/>). A backend may estimate
	// the count of a large full-text result (XEP-0059 §2.7 allows an
	// approximate count where the exact one is resource-intensive); every
	// other count is exact, and nothing else depends on it.
	Count bool
}

// ArchivePage is the answer to a query, always in archive order.
type ArchivePage struct {
	Messages []ArchivedMessage
	// Complete is true when no matching message lies beyond the page in
	// the paging direction (later messages forward, earlier backward).
	Complete bool
	Count    int // filled when asked; -1 otherwise
}

// ArchiveMetadata describes an archive's extent (XEP-0313 #extended).
type ArchiveMetadata struct {
	FirstID, LastID       string
	FirstStamp, LastStamp time.Time
}

// Archiving defaults of XEP-0441.
const (
	ArchiveAlways = "always"
	ArchiveNever  = "never"
	ArchiveRoster = "roster"
)

// ArchivePrefs are a user's archiving preferences (XEP-0441).
type ArchivePrefs struct {
	Default string   // ArchiveAlways, ArchiveNever or ArchiveRoster
	Always  []string // JIDs always archived, sorted
	Never   []string // JIDs never archived, sorted
}
