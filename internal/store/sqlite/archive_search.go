package sqlite

import (
	"strings"
	"unicode"

	"parley/internal/store"
)

// ArchiveShare is the share archive queries read in.
func (d *sqlDB) ArchiveShare() *store.Share { return d.archiveShare }

// SearchText walks FTS5's matches of every owner in rowid (seq) order,
// without the owner tag; a search without words walks archive in seq
// order.
func (d *sqlDB) SearchText(text string, n int) (from, seq, cond string, arg any) {
	if match := ftsWords(text); match != "" {
		return "FROM archive_fts CROSS JOIN archive a ON a.seq = archive_fts.rowid", "archive_fts.rowid", "archive_fts MATCH ?", match
	}
	return "FROM archive a", "a.seq", "", nil
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
