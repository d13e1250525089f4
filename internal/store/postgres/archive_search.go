package postgres

import (
	"fmt"
	"strings"

	"parley/internal/store"
)

// ArchiveShare is the share archive queries hold connections in.
func (d *sqlDB) ArchiveShare() *store.Share { return d.archiveShare }

// SearchText matches words through the GIN index without an owner
// lexeme; the page is read in seq order.
func (d *sqlDB) SearchText(text string, n int) (from, seq, cond string, arg any) {
	from, seq = "FROM archive a", "a.seq"
	if words := searchWords(text); len(words) > 0 {
		cond, arg = fmt.Sprintf("a.words @@ $%d::tsquery", n), "'"+strings.Join(words, "' & '")+"'"
	}
	return from, seq, cond, arg
}
