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

// ArchiveSearchDB is what a backend does for SearchArchives, in its own
// SQL (FTS5 or tsvector).
type ArchiveSearchDB interface {
	QueryDB
	// ArchiveShare is the share of the pool archive queries run in.
	ArchiveShare() *Share
	// SearchQuery is q's search and its arguments: a query of
	// FoundColumns rows in seq order, at most q.Limit of them.
	SearchQuery(q ArchiveSearch) (string, []any)
}

// FoundColumns are what a search reads of a message, in scanFound's
// order, with the archive table as a.
const FoundColumns = `a.seq, a.owner, a.id, a.with_jid, a.stamp, a.stanza, a.body`

func scanFound(scan func(...any) error) (FoundMessage, error) {
	var m FoundMessage
	var stamp ScanTime
	err := scan(&m.Seq, &m.Owner, &m.ID, &m.With, &stamp, &m.Stanza, &m.Text)
	m.Stamp = stamp.Time
	return m, err
}

// SearchArchives searches every archive for compliance, in the archive
// queries' share of the pool; see ArchiveSearches.
func (m StmtMethods) SearchArchives(ctx context.Context, q ArchiveSearch) ([]FoundMessage, error) {
	return Query(ctx, m.DB.ArchiveShare(), m.Backend+": search archives", func() ([]FoundMessage, error) {
		query, args := m.DB.SearchQuery(q)
		return QueryRows(ctx, m.DB, scanFound, query, args...)
	})
}
