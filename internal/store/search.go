package store

import (
	"context"
	"time"
)

// ArchiveSearches searches every archive at once, for compliance
// (e-discovery, internal/ediscovery): no user query reads through it.
type ArchiveSearches interface {
	// SearchArchives returns up to q.Limit messages of every archive
	// (users' and rooms') that match q, in archive order (seq) after
	// q.After. Fewer than q.Limit means there are no more.
	SearchArchives(ctx context.Context, q ArchiveSearch) ([]FoundMessage, error)
}

// ArchiveSearch selects messages across archives. A message is in scope
// when its archive is one of Owners or its other party is one of With;
// with neither, every archive is. Start, End and Text then narrow the
// scope, all together.
type ArchiveSearch struct {
	Owners     []string  // archives: usernames and room JIDs
	With       []string  // the other party (With of ArchivedMessage): bare JIDs, room/nick
	Start, End time.Time // inclusive bounds on Stamp
	Text       string    // every word must occur (as ArchiveQuery.Text)
	After      int64     // the seq of the last message of the previous page; 0: from the start
	Limit      int       // messages per page
}

// FoundMessage is a message a search found, with its place in the
// backend's append order (the cursor of the next page).
type FoundMessage struct {
	Seq int64
	ArchivedMessage
}
