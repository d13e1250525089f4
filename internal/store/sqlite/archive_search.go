package sqlite

import (
	"encoding/json"
	"strings"
	"unicode"

	"parley/internal/store"
)

var _ store.ArchiveSearches = (*Store)(nil)

// ArchiveShare is the share archive queries read in.
func (d *sqlDB) ArchiveShare() *store.Share { return d.archiveShare }

// SearchQuery is store.SearchArchives' search. A search with words walks
// FTS5's matches of every owner in rowid (seq) order, without the owner
// tag; one without walks archive in seq order. Either stops after Limit
// matches.
func (d *sqlDB) SearchQuery(q store.ArchiveSearch) (string, []any) {
	from, seq := "FROM archive a", "a.seq"
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		conds = append(conds, cond)
		args = append(args, arg)
	}
	if match := ftsWords(q.Text); match != "" {
		from, seq = "FROM archive_fts CROSS JOIN archive a ON a.seq = archive_fts.rowid", "archive_fts.rowid"
		add("archive_fts MATCH ?", match)
	}
	add(seq+" > ?", q.After)
	if len(q.Owners) > 0 || len(q.With) > 0 {
		owners, _ := json.Marshal(append([]string{}, q.Owners...)) // []string always marshals
		with, _ := json.Marshal(append([]string{}, q.With...))
		conds = append(conds, "(a.owner IN (SELECT value FROM json_each(?)) OR a.with_jid IN (SELECT value FROM json_each(?)))")
		args = append(args, string(owners), string(with))
	}
	if !q.Start.IsZero() {
		add("a.stamp >= ?", nanos(q.Start))
	}
	if !q.End.IsZero() {
		add("a.stamp <= ?", nanos(q.End))
	}
	return "SELECT " + store.FoundColumns + " " + from + " WHERE " + strings.Join(conds, " AND ") + " ORDER BY " + seq + " LIMIT ?",
		append(args, max(q.Limit, 0))
}

// ftsWords is the FTS5 query of every word of text in any archive (no
// owner tag), or "" when text has no word.
func ftsWords(text string) string {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
	for i, w := range words {
		words[i] = `body : "` + w + `"` // only letters and digits: no quote to escape
	}
	return strings.Join(words, " AND ")
}
