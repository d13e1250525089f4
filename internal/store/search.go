package store

import (
	"context"
	"strings"
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
	// SearchText is how a search finds text's words: the rows it reads
	// (a FROM clause, with the archive table as a) in the order of their
	// seq column, and the condition that every word occurs, taking arg as
	// parameter n. When text has no word, cond is "" and from and seq
	// read the archive table alone.
	SearchText(text string, n int) (from, seq, cond string, arg any)
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
		query, args := m.searchQuery(q)
		return QueryRows(ctx, m.DB, scanFound, query, args...)
	})
}

// searchQuery is q's search and its arguments: a query of FoundColumns
// rows in seq order, at most q.Limit of them. The arguments are in the
// order of their placeholders, as SQLite's ? needs.
func (m StmtMethods) searchQuery(q ArchiveSearch) (string, []any) {
	var conds []string
	var args []any
	param := func(arg any) string { // arg as the next parameter
		args = append(args, arg)
		return m.DB.Param(len(args))
	}
	in := func(col string, list []string) string { // list as the next parameter
		cond, arg := m.DB.In(col, len(args)+1, append([]string{}, list...))
		args = append(args, arg)
		return cond
	}
	from, seq, match, words := m.DB.SearchText(q.Text, 1)
	if match != "" {
		conds, args = append(conds, match), append(args, words)
	}
	conds = append(conds, seq+" > "+param(q.After))
	if len(q.Owners) > 0 || len(q.With) > 0 {
		conds = append(conds, "("+in("a.owner", q.Owners)+" OR "+in("a.with_jid", q.With)+")")
	}
	if !q.Start.IsZero() {
		conds = append(conds, "a.stamp >= "+param(m.DB.Time(q.Start)))
	}
	if !q.End.IsZero() {
		conds = append(conds, "a.stamp <= "+param(m.DB.Time(q.End)))
	}
	return "SELECT " + FoundColumns + " " + from + " WHERE " + strings.Join(conds, " AND ") +
		" ORDER BY " + seq + " LIMIT " + param(max(q.Limit, 0)), args
}
