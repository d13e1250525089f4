package postgres

import (
	"fmt"
	"strings"

	"parley/internal/store"
)

var _ store.ArchiveSearches = (*Store)(nil)

// ArchiveShare is the share archive queries hold connections in.
func (d *sqlDB) ArchiveShare() *store.Share { return d.archiveShare }

// SearchQuery is store.SearchArchives' search: words are matched through
// the GIN index without an owner lexeme; the page is read in seq order.
func (d *sqlDB) SearchQuery(q store.ArchiveSearch) (string, []any) {
	f := archiveFilter{}
	f.add("seq > $%d", q.After)
	if words := searchWords(q.Text); len(words) > 0 {
		f.add("words @@ $%d::tsquery", "'"+strings.Join(words, "' & '")+"'")
	}
	if len(q.Owners) > 0 || len(q.With) > 0 {
		f.args = append(f.args, append([]string{}, q.Owners...), append([]string{}, q.With...))
		f.conds = append(f.conds, fmt.Sprintf("(owner = ANY($%d) OR with_jid = ANY($%d))", len(f.args)-1, len(f.args)))
	}
	if !q.Start.IsZero() {
		f.add("stamp >= $%d", q.Start)
	}
	if !q.End.IsZero() {
		f.add("stamp <= $%d", q.End)
	}
	f.args = append(f.args, max(q.Limit, 0))
	return fmt.Sprintf("SELECT "+store.FoundColumns+" FROM archive a WHERE %s ORDER BY seq LIMIT $%d", f.where(), len(f.args)), f.args
}
