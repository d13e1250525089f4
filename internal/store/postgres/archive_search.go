package postgres

import (
	"context"
	"fmt"
	"strings"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

var _ store.ArchiveSearches = (*Store)(nil)

// SearchArchives searches every archive for compliance; see
// store.ArchiveSearches. Words are matched through the GIN index without
// an owner lexeme; the page is read in seq order.
func (s *Store) SearchArchives(ctx context.Context, q store.ArchiveSearch) ([]store.FoundMessage, error) {
	return store.Query(ctx, s.archiveShare, "postgres: search archives",
		func() ([]store.FoundMessage, error) { return s.searchArchives(ctx, q) })
}

func (s *Store) searchArchives(ctx context.Context, q store.ArchiveSearch) ([]store.FoundMessage, error) {
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
	rows, err := s.pool.Query(ctx, fmt.Sprintf("SELECT seq, owner, id, with_jid, stamp, stanza, body FROM archive WHERE %s ORDER BY seq LIMIT $%d",
		f.where(), len(f.args)), f.args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.FoundMessage, error) {
		var m store.FoundMessage
		err := row.Scan(&m.Seq, &m.Owner, &m.ID, &m.With, &m.Stamp, &m.Stanza, &m.Text)
		m.Stamp = m.Stamp.UTC()
		return m, err
	})
}
