package postgres

// Reading archives: one page of a query, with its count.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
)

// QueryArchive returns one page of owner's archive; see store.Archives.
func (s *Store) QueryArchive(ctx context.Context, owner string, q store.ArchiveQuery) (store.ArchivePage, error) {
	return store.Query(ctx, s.archiveShare, fmt.Sprintf("postgres: query archive of %q", owner),
		func() (store.ArchivePage, error) { return s.queryArchive(ctx, owner, q) })
}

func (s *Store) queryArchive(ctx context.Context, owner string, q store.ArchiveQuery) (store.ArchivePage, error) {
	page := store.ArchivePage{Count: -1}
	// The #extended id filters bound the count; the RSM cursors only the
	// page (XEP-0059 §2.6: count is the size of the whole result set). A
	// message's seq never changes, so the ids are resolved outside the
	// snapshot that counts and pages.
	bounds, err := s.archiveSeqs(ctx, owner, q)
	if err != nil {
		return page, err
	}
	f := archiveFilter{}
	tsq := searchQuery(owner, q.Text)
	if tsq != "" {
		// The owner's lexeme in the query selects the owner exactly; a
		// condition on the owner column as well would tempt the planner to
		// AND the GIN bitmap with the owner's whole btree range.
		f.add("words @@ $%d::tsquery", tsq)
	} else {
		f.add("owner = $%d", owner)
	}
	if q.With != "" {
		f.add("with_jid = $%d", q.With)
	}
	if !q.Start.IsZero() {
		f.add("stamp >= $%d", q.Start)
	}
	if !q.End.IsZero() {
		f.add("stamp <= $%d", q.End)
	}
	if len(q.IDs) > 0 {
		f.add("id = ANY($%d)", q.IDs)
	}
	if bounds[0] != 0 {
		f.add("seq > $%d", bounds[0])
	}
	if bounds[1] != 0 {
		f.add("seq < $%d", bounds[1])
	}
	countSQL, countArgs := "SELECT count(*) FROM archive WHERE "+f.where(), slices.Clone(f.args)
	wordsOnly := tsq != "" && q.With == "" && q.Start.IsZero() && q.End.IsZero() && len(q.IDs) == 0
	if wordsOnly {
		countSQL, countArgs = searchCount(owner, tsq, bounds[0], bounds[1])
	}
	if bounds[2] != 0 {
		f.add("seq > $%d", bounds[2])
	}
	if bounds[3] != 0 {
		f.add("seq < $%d", bounds[3])
	}
	backward := q.Before != "" || q.Last
	order := "ASC"
	if backward {
		order = "DESC"
	}
	limit := max(q.Limit, 0)
	f.args = append(f.args, limit+1)
	pageFrom := fmt.Sprintf(" FROM archive WHERE %s ORDER BY seq %s LIMIT $%d", f.where(), order, len(f.args))
	pageSQL := "SELECT id, with_jid, stamp, stanza, body" + pageFrom

	// A read-only transaction, so the count and the page see one
	// snapshot, planned for their arguments every time: a cached generic
	// plan cannot tell a rare word, best found through the GIN index,
	// from a common one, best found by walking the owner's messages
	// backwards. The page comes first: when it holds the whole result set
	// (complete, and no RSM cursor cut it) it is its own count, which
	// spares the count query for most searches.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return store.ArchivePage{Count: -1}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
	// A search counted over the whole archive whose page is planned as a
	// bitmap scan fetches every match and sorts them anyway: counting
	// them there (a window over the matches, before LIMIT) spares a
	// second bitmap of the same words for the count. Only the planner
	// knows whether it chose a bitmap or a walk of the owner's messages
	// backwards (a common word), where counting every match in the page
	// would visit one heap page per match; so such a page is explained
	// first, in the round trip that sets the plan mode. That costs a
	// planning and a round trip (~0.4 ms), so only searches of several
	// words pay it: they are the ones with a few hundred matches, too
	// many for one page and too few for an estimate. A single word is
	// either rare enough for its page to be its count or common enough
	// to be estimated (estimateSearchCount).
	explain := q.Count && wordsOnly && bounds == [4]int64{} && len(searchWords(q.Text)) > 1
	var b pgx.Batch
	b.Queue("SET LOCAL plan_cache_mode = force_custom_plan")
	if explain {
		b.Queue("EXPLAIN (FORMAT JSON) "+pageSQL, f.args...)
	} else {
		b.Queue(pageSQL, f.args...)
	}
	total, inPage := int64(-1), false
	br := tx.SendBatch(ctx, &b)
	err = func() error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		if !explain {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			page.Messages, err = collectPage(rows, owner, nil)
			return err
		}
		var plan string
		if err := br.QueryRow().Scan(&plan); err != nil {
			return err
		}
		if inPage = strings.Contains(plan, `"Bitmap Heap Scan"`); inPage {
			pageSQL = "SELECT id, with_jid, stamp, stanza, body, count(*) OVER ()" + pageFrom
		}
		return nil
	}()
	if err = errors.Join(err, br.Close()); err != nil {
		return store.ArchivePage{Count: -1}, err
	}
	if explain {
		var count *int64
		if inPage {
			count = &total
		}
		rows, err := tx.Query(ctx, pageSQL, f.args...)
		if err != nil {
			return store.ArchivePage{Count: -1}, err
		}
		if page.Messages, err = collectPage(rows, owner, count); err != nil {
			return store.ArchivePage{Count: -1}, err
		}
	}
	if q.Count {
		switch {
		case inPage:
			page.Count = max(int(total), 0) // no row: no match
		case len(page.Messages) <= limit && bounds[2] == 0 && bounds[3] == 0:
			page.Count = len(page.Messages)
		case wordsOnly && bounds[0] == 0 && bounds[1] == 0:
			page.Count, err = estimateSearchCount(ctx, tx, owner, tsq, len(page.Messages))
		default:
			err = tx.QueryRow(ctx, countSQL, countArgs...).Scan(&page.Count)
		}
		if err != nil {
			return store.ArchivePage{Count: -1}, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return store.ArchivePage{Count: -1}, err
	}
	page.Complete = len(page.Messages) <= limit
	if !page.Complete {
		page.Messages = page.Messages[:limit]
	}
	if len(page.Messages) == 0 {
		page.Messages = nil
	}
	if backward {
		slices.Reverse(page.Messages)
	}
	return page, nil
}

// collectPage reads a page's messages, and into count (when not nil) the
// last column of every row: the count of the whole result set.
func collectPage(rows pgx.Rows, owner string, count *int64) ([]store.ArchivedMessage, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.ArchivedMessage, error) {
		m := store.ArchivedMessage{Owner: owner}
		dest := []any{&m.ID, &m.With, &m.Stamp, &m.Stanza, &m.Text}
		if count != nil {
			dest = append(dest, count)
		}
		err := row.Scan(dest...)
		m.Stamp = m.Stamp.UTC()
		return m, err
	})
}

// archiveFilter collects the conditions of an archive query, each with
// one argument; a condition's "$%d" becomes its argument's number.
type archiveFilter struct {
	conds []string
	args  []any
}

func (f *archiveFilter) add(cond string, arg any) {
	f.args = append(f.args, arg)
	f.conds = append(f.conds, fmt.Sprintf(cond, len(f.args)))
}

func (f *archiveFilter) where() string { return strings.Join(f.conds, " AND ") }

// archiveSeqs resolves the ids a query refers to: the positions of
// AfterID, BeforeID, After and Before (0 where not given), after checking
// that each of them and of IDs is one of owner's messages
// (store.ErrNotFound otherwise).
func (s *Store) archiveSeqs(ctx context.Context, owner string, q store.ArchiveQuery) ([4]int64, error) {
	var bounds [4]int64
	named := []string{q.AfterID, q.BeforeID, q.After, q.Before}
	var want []string
	for _, id := range named {
		if id != "" {
			want = append(want, id)
		}
	}
	want = append(want, q.IDs...)
	if len(want) == 0 {
		return bounds, nil
	}
	want = slices.Compact(slices.Sorted(slices.Values(want)))
	rows, err := s.pool.Query(ctx, `SELECT id, seq FROM archive WHERE owner = $1 AND id = ANY($2)`, owner, want)
	if err != nil {
		return bounds, err
	}
	seqs := make(map[string]int64, len(want))
	var id string
	var seq int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &seq}, func() error { seqs[id] = seq; return nil }); err != nil {
		return bounds, err
	}
	for _, id := range want {
		if _, ok := seqs[id]; !ok {
			return bounds, fmt.Errorf("archive id %q: %w", id, store.ErrNotFound)
		}
	}
	for i, id := range named {
		bounds[i] = seqs[id] // 0 for ""
	}
	return bounds, nil
}
