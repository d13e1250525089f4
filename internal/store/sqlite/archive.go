package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"parley/internal/store"

	sqlite3 "modernc.org/sqlite/lib"
)

var _ store.Archives = (*Store)(nil)

// archiveSchema is the migration step for message archives (XEP-0313).
//
// Archive order is seq, the order of appending; id (the stanza-id) is
// unique per owner and only looked up. The index on (owner) is in fact on
// (owner, seq), since every index ends with the rowid, and so is the one
// on (owner, with_jid): both page in archive order without sorting.
//
// archive_fts is a contentless FTS5 index of the bodies keyed by seq, so
// the text is stored once. Its tag column holds one token per owner
// ("u" + hex of the username) that a search ANDs with the words: FTS5
// then walks the owner's and the words' posting lists together instead of
// every owner's matches. contentless_delete lets the triggers remove rows,
// and they run for the ON DELETE CASCADE of an account as well.
const archiveSchema = `
CREATE TABLE archive (
	seq      INTEGER PRIMARY KEY AUTOINCREMENT,
	owner    TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
	id       TEXT NOT NULL,
	with_jid TEXT NOT NULL,
	stamp    INTEGER NOT NULL, -- Unix nanoseconds
	stanza   BLOB NOT NULL,
	body     TEXT NOT NULL
);
CREATE UNIQUE INDEX archive_owner_id ON archive (owner, id);
CREATE INDEX archive_owner ON archive (owner);
CREATE INDEX archive_owner_with ON archive (owner, with_jid);
CREATE INDEX archive_owner_stamp ON archive (owner, stamp);

CREATE VIRTUAL TABLE archive_fts USING fts5 (
	tag, body,
	content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER archive_fts_insert AFTER INSERT ON archive WHEN new.body != '' BEGIN
	INSERT INTO archive_fts (rowid, tag, body) VALUES (new.seq, 'u' || hex(new.owner), new.body);
END;
CREATE TRIGGER archive_fts_delete AFTER DELETE ON archive WHEN old.body != '' BEGIN
	DELETE FROM archive_fts WHERE rowid = old.seq;
END;

CREATE TABLE archive_prefs (
	owner   TEXT PRIMARY KEY REFERENCES users(username) ON DELETE CASCADE,
	default_mode TEXT NOT NULL,
	always  TEXT NOT NULL, -- JSON array of JIDs, sorted
	never   TEXT NOT NULL  -- JSON array of JIDs, sorted
) WITHOUT ROWID;
`

// maxAppend bounds one AppendArchive call (store.MaxAppend).
const maxAppend = store.MaxAppend

// AppendArchive stores msgs in the writer's next batch and returns after
// the commit. store.ErrNotFound for an unknown owner,
// store.ErrExists for an id the owner already has; either undoes the
// whole call.
func (s *Store) AppendArchive(ctx context.Context, msgs []store.ArchivedMessage) error {
	if err := <-s.QueueArchive(ctx, msgs); err != nil {
		return fmt.Errorf("sqlite: append %d archived messages: %w", len(msgs), err)
	}
	return nil
}

// SyncArchive returns once every append queued before it has committed: a
// barrier behind them in the single writer's queue.
func (s *Store) SyncArchive(ctx context.Context) error { return s.writer.Sync(ctx) }

// QueueArchive is AppendArchive without the wait; see store.Archives.
func (s *Store) QueueArchive(ctx context.Context, msgs []store.ArchivedMessage) <-chan error {
	if done := store.EarlyAppend(msgs); done != nil {
		return done
	}
	done := make(chan error, 1)
	now := time.Now().UnixNano()
	ins := &insertRows{
		head: "INSERT INTO archive (owner, id, with_jid, stamp, stanza, body) VALUES ",
		row:  "(?,?,?,?,?,?)",
		args: make([]any, 0, 6*len(msgs)),
		rows: len(msgs),
		mapErr: func(err error) error {
			if isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) {
				return store.ErrExists
			}
			return missingUser(err)
		},
	}
	for i := range msgs {
		m := &msgs[i]
		stamp := now
		if !m.Stamp.IsZero() {
			stamp = nanos(m.Stamp)
		}
		ins.args = append(ins.args, m.Owner, m.ID, m.With, stamp, nonNil(m.Stanza), m.Text)
	}
	// The writer merges these rows with other callers' into one INSERT per
	// batch (one full-text index flush instead of one per message).
	r := &request{ctx: ctx, insert: ins, done: done}
	if err := s.enqueue(r); err != nil {
		done <- err
	}
	return done
}

// QueryArchive returns one page of owner's archive; see store.Archives.
func (s *Store) QueryArchive(ctx context.Context, owner string, q store.ArchiveQuery) (store.ArchivePage, error) {
	return store.Query(ctx, s.archiveShare, fmt.Sprintf("sqlite: query archive of %q", owner),
		func() (store.ArchivePage, error) { return s.queryArchive(ctx, owner, q) })
}

func (s *Store) queryArchive(ctx context.Context, owner string, q store.ArchiveQuery) (store.ArchivePage, error) {
	page := store.ArchivePage{Count: -1}
	// One read transaction, so the count and the page see one snapshot.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return page, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only

	// The #extended id filters bound the count; the RSM cursors only the
	// page (XEP-0059 §2.6: count is the size of the whole result set).
	var bounds [4]int64 // after-id, before-id, after, before; 0: none
	for i, id := range []string{q.AfterID, q.BeforeID, q.After, q.Before} {
		if id == "" {
			continue
		}
		if bounds[i], err = archiveSeq(ctx, tx, owner, id); err != nil {
			return page, err
		}
	}
	if len(q.IDs) > 0 {
		if err := allArchived(ctx, tx, owner, q.IDs); err != nil {
			return page, err
		}
	}

	f := newArchiveFilter(owner, q)
	if bounds[0] != 0 {
		f.add(f.seq+" > ?", bounds[0])
	}
	if bounds[1] != 0 {
		f.add(f.seq+" < ?", bounds[1])
	}
	if q.Count {
		query, args := f.count()
		if err := tx.QueryRowContext(ctx, query, args...).Scan(&page.Count); err != nil {
			return page, err
		}
	}
	if bounds[2] != 0 {
		f.add(f.seq+" > ?", bounds[2])
	}
	if bounds[3] != 0 {
		f.add(f.seq+" < ?", bounds[3])
	}

	backward := q.Before != "" || q.Last
	order := "ASC"
	if backward {
		order = "DESC"
	}
	limit := max(q.Limit, 0)
	rows, err := tx.QueryContext(ctx, "SELECT a.id, a.with_jid, a.stamp, a.stanza, a.body "+f.from+
		" WHERE "+f.where()+" ORDER BY "+f.seq+" "+order+" LIMIT ?", append(f.args, limit+1)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		m := store.ArchivedMessage{Owner: owner}
		var stamp int64
		if err := rows.Scan(&m.ID, &m.With, &stamp, &m.Stanza, &m.Text); err != nil {
			return page, err
		}
		m.Stamp = fromUnixNano(stamp)
		page.Messages = append(page.Messages, m)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	page.Complete = len(page.Messages) <= limit
	if !page.Complete {
		page.Messages = page.Messages[:limit]
	}
	if backward {
		slices.Reverse(page.Messages)
	}
	return page, nil
}

// archiveFilter builds the FROM and WHERE of an archive query.
type archiveFilter struct {
	from  string
	seq   string // the column that orders: the FTS rowid when searching
	conds []string
	args  []any
	// ftsOnly: a search with no filter but the text and seq bounds; the
	// owner condition is then conds[1] (after the MATCH).
	ftsOnly bool
}

func newArchiveFilter(owner string, q store.ArchiveQuery) *archiveFilter {
	f := &archiveFilter{from: "FROM archive a", seq: "a.seq"}
	if match := ftsQuery(owner, q.Text); match != "" {
		// CROSS JOIN keeps FTS5 outermost: it yields rowids in order and
		// takes the seq bounds, so a page stops after LIMIT matches.
		f.from = "FROM archive_fts CROSS JOIN archive a ON a.seq = archive_fts.rowid"
		f.seq = "archive_fts.rowid"
		f.add("archive_fts MATCH ?", match)
		f.ftsOnly = q.With == "" && q.Start.IsZero() && q.End.IsZero() && len(q.IDs) == 0
	}
	f.add("a.owner = ?", owner)
	if q.With != "" {
		f.add("a.with_jid = ?", q.With)
	}
	if !q.Start.IsZero() {
		f.add("a.stamp >= ?", nanos(q.Start))
	}
	if !q.End.IsZero() {
		f.add("a.stamp <= ?", nanos(q.End))
	}
	if len(q.IDs) > 0 {
		list, _ := json.Marshal(q.IDs) // []string always marshals
		f.add("a.id IN (SELECT value FROM json_each(?))", string(list))
	}
	return f
}

// count returns the query and arguments that count the matches. A search
// filtered only by text is counted inside FTS5 alone: the owner's tag
// already selects the owner, and joining every match to archive costs a
// lookup per match, most of the time of a search for a common word.
func (f *archiveFilter) count() (string, []any) {
	if !f.ftsOnly {
		return "SELECT count(*) " + f.from + " WHERE " + f.where(), f.args
	}
	conds := append([]string{f.conds[0]}, f.conds[2:]...)
	args := append([]any{f.args[0]}, f.args[2:]...)
	return "SELECT count(*) FROM archive_fts WHERE " + strings.Join(conds, " AND "), args
}

func (f *archiveFilter) add(cond string, arg any) {
	f.conds = append(f.conds, cond)
	f.args = append(f.args, arg)
}

func (f *archiveFilter) where() string { return strings.Join(f.conds, " AND ") }

// ftsQuery turns what a user typed into an FTS5 query: the owner's tag AND
// every word as a quoted string (so no word is taken for FTS5 syntax). It
// returns "" when text has no word.
func ftsQuery(owner, text string) string {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
	if len(words) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(`tag : "u`)
	b.WriteString(strings.ToUpper(hex.EncodeToString([]byte(owner))))
	b.WriteString(`"`)
	for _, w := range words {
		b.WriteString(` AND body : "`)
		b.WriteString(w) // only letters and digits: no quote to escape
		b.WriteString(`"`)
	}
	return b.String()
}

// archiveSeq returns the position of an owner's message; store.ErrNotFound.
func archiveSeq(ctx context.Context, tx *sql.Tx, owner, id string) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx, `SELECT seq FROM archive WHERE owner = ? AND id = ?`, owner, id).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("archive id %q: %w", id, store.ErrNotFound)
	}
	return seq, err
}

// allArchived fails with store.ErrNotFound unless every id is the owner's.
func allArchived(ctx context.Context, tx *sql.Tx, owner string, ids []string) error {
	uniq := slices.Compact(slices.Sorted(slices.Values(ids)))
	list, _ := json.Marshal(uniq)
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM archive WHERE owner = ?
		AND id IN (SELECT value FROM json_each(?))`, owner, string(list)).Scan(&n)
	if err != nil {
		return err
	}
	if n != len(uniq) {
		return fmt.Errorf("%d of %d archive ids: %w", len(uniq)-n, len(uniq), store.ErrNotFound)
	}
	return nil
}

// ArchiveMetadata returns the first and last message of owner's archive.
func (s *Store) ArchiveMetadata(ctx context.Context, owner string) (store.ArchiveMetadata, error) {
	var md store.ArchiveMetadata
	for _, end := range []struct {
		order string
		id    *string
		stamp *time.Time
	}{{"ASC", &md.FirstID, &md.FirstStamp}, {"DESC", &md.LastID, &md.LastStamp}} {
		var stamp int64
		err := s.r.QueryRowContext(ctx, `SELECT id, stamp FROM archive WHERE owner = ?
			ORDER BY seq `+end.order+` LIMIT 1`, owner).Scan(end.id, &stamp)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ArchiveMetadata{}, nil
		}
		if err != nil {
			return store.ArchiveMetadata{}, fmt.Errorf("sqlite: archive metadata of %q: %w", owner, err)
		}
		*end.stamp = fromUnixNano(stamp)
	}
	return md, nil
}

// RetractArchived replaces owner's message id with tombstone; see
// store.Archives. The FTS5 triggers fire on INSERT and DELETE only, so
// the index entry is removed here, in the same transaction.
func (s *Store) RetractArchived(ctx context.Context, owner, id string, tombstone []byte) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		var seq int64
		var body string
		err := tx.QueryRow(`SELECT seq, body FROM archive WHERE owner = ? AND id = ?`, owner, id).Scan(&seq, &body)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if body != "" {
			if _, err := tx.Exec(`DELETE FROM archive_fts WHERE rowid = ?`, seq); err != nil {
				return err
			}
		}
		_, err = tx.Exec(`UPDATE archive SET stanza = ?, body = '' WHERE seq = ?`, nonNil(tombstone), seq)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: retract archived %q of %q: %w", id, owner, err)
	}
	return nil
}

// DeleteArchive removes every archived message of owner.
func (s *Store) DeleteArchive(ctx context.Context, owner string) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`DELETE FROM archive WHERE owner = ?`, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete archive of %q: %w", owner, err)
	}
	return nil
}

// ArchivePrefs returns owner's preferences; store.ErrNotFound if never set.
func (s *Store) ArchivePrefs(ctx context.Context, owner string) (store.ArchivePrefs, error) {
	var p store.ArchivePrefs
	var always, never string
	err := s.r.QueryRowContext(ctx, `SELECT default_mode, always, never FROM archive_prefs
		WHERE owner = ?`, owner).Scan(&p.Default, &always, &never)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err == nil {
		err = errors.Join(json.Unmarshal([]byte(always), &p.Always), json.Unmarshal([]byte(never), &p.Never))
	}
	if err != nil {
		return store.ArchivePrefs{}, fmt.Errorf("sqlite: archive prefs of %q: %w", owner, err)
	}
	return p, nil
}

// SetArchivePrefs replaces owner's preferences; store.ErrNotFound.
func (s *Store) SetArchivePrefs(ctx context.Context, owner string, p store.ArchivePrefs) error {
	sorted := func(l []string) string {
		b, _ := json.Marshal(slices.Compact(slices.Sorted(slices.Values(append([]string{}, l...)))))
		return string(b)
	}
	always, never := sorted(p.Always), sorted(p.Never)
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO archive_prefs (owner, default_mode, always, never) VALUES (?,?,?,?)
			ON CONFLICT (owner) DO UPDATE SET default_mode = excluded.default_mode,
			always = excluded.always, never = excluded.never`, owner, p.Default, always, never)
		return missingUser(err)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set archive prefs of %q: %w", owner, err)
	}
	return nil
}
