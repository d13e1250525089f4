package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/unicode/norm"
)

var _ store.Archives = (*Store)(nil)

// archiveSchema is the migration step for message archives (XEP-0313) of
// users and of persistent rooms.
//
// Archive order is seq, the order of appending; id (the stanza-id) is
// unique per owner and only looked up. Every index that pages ends with
// seq, so a page is read in archive order without sorting.
//
// An owner is a username or a room JID (which contains '@', so the two
// never meet). archive_owners, kept by triggers, holds both, so the
// foreign key still refuses an unknown owner and deleting an account or a
// room still cascades to its archive.
//
// words is the full-text index of body: the words as folded in Go
// (searchWords), plus one lexeme per owner ("_" + hex of the owner, which
// no folded word can be) that a search ANDs with the words. The GIN index
// then intersects the owner's posting list with the words' instead of
// visiting every owner's matches, as the SQLite store's FTS5 tag does.
// Folding in Go rather than with a text search configuration keeps
// PostgreSQL and SQLite tokenising alike and needs no extension
// (unaccent) in the database.
const archiveSchema = `
CREATE TABLE archive_owners (owner text COLLATE "C" PRIMARY KEY);

-- The trigger's argument names the column that holds the owner.
CREATE FUNCTION archive_owner_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO archive_owners (owner) VALUES (to_jsonb(NEW) ->> TG_ARGV[0]) ON CONFLICT DO NOTHING;
	RETURN NULL;
END $$;
CREATE FUNCTION archive_owner_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM archive_owners WHERE owner = to_jsonb(OLD) ->> TG_ARGV[0];
	RETURN NULL;
END $$;
CREATE TRIGGER archive_owner_add AFTER INSERT ON users
	FOR EACH ROW EXECUTE FUNCTION archive_owner_add('username');
CREATE TRIGGER archive_owner_remove AFTER DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION archive_owner_remove('username');
CREATE TRIGGER archive_owner_add AFTER INSERT ON muc_rooms
	FOR EACH ROW EXECUTE FUNCTION archive_owner_add('jid');
CREATE TRIGGER archive_owner_remove AFTER DELETE ON muc_rooms
	FOR EACH ROW EXECUTE FUNCTION archive_owner_remove('jid');
INSERT INTO archive_owners (owner) SELECT username FROM users;
INSERT INTO archive_owners (owner) SELECT jid FROM muc_rooms ON CONFLICT DO NOTHING;

CREATE TABLE archive (
	seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	owner    text COLLATE "C" NOT NULL REFERENCES archive_owners (owner) ON DELETE CASCADE,
	id       text COLLATE "C" NOT NULL,
	with_jid text COLLATE "C" NOT NULL,
	stamp    timestamptz NOT NULL,
	stanza   bytea NOT NULL,
	body     text NOT NULL,
	words    tsvector NOT NULL
);
CREATE UNIQUE INDEX archive_owner_id ON archive (owner, id);
CREATE INDEX archive_owner_seq ON archive (owner, seq);
CREATE INDEX archive_owner_with ON archive (owner, with_jid, seq);
CREATE INDEX archive_owner_stamp ON archive (owner, stamp);
CREATE INDEX archive_words ON archive USING gin (words);

CREATE TABLE archive_prefs (
	owner        text COLLATE "C" PRIMARY KEY REFERENCES users (username) ON DELETE CASCADE,
	default_mode text NOT NULL,
	always       text[] NOT NULL, -- sorted, unique
	never        text[] NOT NULL
);
`

// archiveSearchSchema is the migration step that lets a search count its
// matches (XEP-0059 <count/>) without visiting the table.
//
// GIN cannot answer from the index alone, so counting a common word
// through archive_words visits one heap page per match (an owner's rows
// are spread over the whole table, interleaved with everyone else's):
// ~30,000 page visits, 110 ms and more, for a word in a third of a
// 50,000-message archive. archive_search holds each owner's words in
// archive order inside a btree, so the count is an index-only scan over
// that owner's entries, testing each one's words: pages in proportion to
// the owner's archive, not to the whole table. A btree entry must fit a
// third of a page, so only words up to 1,500 bytes (as text) go
// in; the few longer ones are counted through archive_search_long, which
// visits the heap for them alone. Both are partial on the same immutable
// expression, which the count repeats so that the planner can use them.
const archiveSearchSchema = `
CREATE INDEX archive_search ON archive (owner, seq) INCLUDE (words)
	WHERE octet_length(words::text) <= 1500;
CREATE INDEX archive_search_long ON archive (owner, seq)
	WHERE octet_length(words::text) > 1500;
`

// archiveCountSchema is the migration step that keeps each owner's
// number of archived messages in archive_owners.entries, so that an
// estimated search count (see estimateSearchCount) scales a sample of the newest
// entries without first counting the owner's whole archive. Statement
// triggers with transition tables add one UPDATE per statement (one per
// append batch), not one per row. Appends are serialised by archiveLock
// and deletes update the same rows, so the row lock keeps the sum exact.
const archiveCountSchema = `
ALTER TABLE archive_owners ADD COLUMN entries bigint NOT NULL DEFAULT 0;
UPDATE archive_owners o SET entries = c.n
	FROM (SELECT owner, count(*) AS n FROM archive GROUP BY owner) c WHERE c.owner = o.owner;
CREATE FUNCTION archive_count_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE archive_owners o SET entries = o.entries + c.n
		FROM (SELECT owner, count(*) AS n FROM added GROUP BY owner) c WHERE c.owner = o.owner;
	RETURN NULL;
END $$;
CREATE FUNCTION archive_count_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE archive_owners o SET entries = o.entries - c.n
		FROM (SELECT owner, count(*) AS n FROM removed GROUP BY owner) c WHERE c.owner = o.owner;
	RETURN NULL;
END $$;
CREATE TRIGGER archive_count_add AFTER INSERT ON archive REFERENCING NEW TABLE AS added
	FOR EACH STATEMENT EXECUTE FUNCTION archive_count_add();
CREATE TRIGGER archive_count_remove AFTER DELETE ON archive REFERENCING OLD TABLE AS removed
	FOR EACH STATEMENT EXECUTE FUNCTION archive_count_remove();
`

// searchWordsShort and searchWordsLong select the rows of archive_search
// and archive_search_long; they must repeat those indexes' predicates.
const (
	searchWordsShort = "octet_length(words::text) <= 1500"
	searchWordsLong  = "octet_length(words::text) > 1500"
)

// maxAppend bounds one AppendArchive call, as in the SQLite store.
const maxAppend = 1000

// archiveLock is the advisory lock key every archive append takes for its
// transaction ("parleyarchive" folded into 63 bits). Appends of one node
// are already serialised by its writer; the lock serialises them across
// nodes sharing the database, so that commits happen in seq order. Without
// it node A could commit seq 11 before node B commits seq 10, and a client
// that saw 11 and later asks for everything after it would never see 10.
const archiveLock int64 = 0x706172_6c65_7961

// archiveRequest is one AppendArchive call waiting for the writer.
type archiveRequest struct {
	ctx   context.Context
	msgs  []store.ArchivedMessage // stamps already resolved and truncated
	words []string                // indexWords of each message, folded by the caller
	done  chan error              // buffered 1 so the writer never waits
}

// AppendArchive stores msgs and returns once they are committed. The
// writer inserts everything queued by all callers with one statement, in
// one transaction (group commit). store.ErrNotFound for an unknown owner,
// store.ErrExists for an id the owner already has; either undoes the
// whole call and no other.
func (s *Store) AppendArchive(ctx context.Context, msgs []store.ArchivedMessage) error {
	defer s.observe("AppendArchive", time.Now())
	if err := <-s.QueueArchive(ctx, msgs); err != nil {
		return fmt.Errorf("postgres: append %d archived messages: %w", len(msgs), err)
	}
	return nil
}

// QueueArchive is AppendArchive without the wait; see store.Archives.
func (s *Store) QueueArchive(ctx context.Context, msgs []store.ArchivedMessage) <-chan error {
	done := make(chan error, 1) // buffered so the writer never waits
	if len(msgs) == 0 {
		done <- nil
		return done
	}
	if len(msgs) > maxAppend {
		done <- fmt.Errorf("at most %d at once", maxAppend)
		return done
	}
	now := stamp(time.Time{})
	own := make([]store.ArchivedMessage, len(msgs))
	// Folding the text for the index here, in the caller's goroutine,
	// keeps it off the single writer's path: callers fold while the
	// writer commits the batch ahead of them.
	words := make([]string, len(msgs))
	for i, m := range msgs {
		if m.Stamp.IsZero() {
			m.Stamp = now
		} else {
			m.Stamp = stamp(m.Stamp)
		}
		own[i] = m
		words[i] = indexWords(m.Owner, m.Text)
	}
	if err := enqueue(ctx, s, s.archive, &archiveRequest{ctx: ctx, msgs: own, words: words, done: done}); err != nil {
		done <- err
	}
	return done
}

// SyncArchive returns once every append queued before it has committed;
// see store.Archives. It queues an empty request behind them, which the
// writer answers after the batch it is in has committed.
func (s *Store) SyncArchive(ctx context.Context) error {
	r := &archiveRequest{ctx: ctx, done: make(chan error, 1)}
	if err := enqueue(ctx, s, s.archive, r); err != nil {
		return err
	}
	return <-r.done
}

// runArchive is the archive writer goroutine, owned by the Store and
// stopped by Close; see run for the offline writer it mirrors. A batch
// holds at most 4*maxAppend messages.
func (s *Store) runArchive() {
	defer close(s.archiveStopped)
	batch := make([]*archiveRequest, 0, maxBatch)
	rows := func(r *archiveRequest) int { return len(r.msgs) }
	for {
		r, ok := next(s.archive, s.quit)
		if !ok {
			return
		}
		batch = fill(s.archive, append(batch[:0], r), rows, 4*maxAppend)
		s.commitArchive(batch)
		clear(batch)
	}
}

// commitArchive stores batch and answers every request. Statements run
// under a context of their own (see commit).
func (s *Store) commitArchive(batch []*archiveRequest) {
	live := batch[:0:0]
	var barriers []*archiveRequest // SyncArchive: answered after this batch
	defer func() {
		for _, r := range barriers {
			r.done <- nil
		}
	}()
	for _, r := range batch {
		if len(r.msgs) == 0 {
			barriers = append(barriers, r)
			continue
		}
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	var errs []error
	var err error
	// An owner deleted between the statement's check and its insert fails
	// the foreign key and undoes the batch; the next attempt no longer
	// sees the owner. More than a few such races in a row is an outage.
	for range 3 {
		errs, err = s.insertArchive(context.Background(), live)
		if !isCode(err, foreignKeyViolation) {
			break
		}
		s.redone.Add(int64(len(live)))
	}
	for i, r := range live {
		if err != nil {
			r.done <- err
		} else {
			r.done <- errs[i]
		}
	}
}

// insertArchive stores the rows of every request with one INSERT in one
// transaction, leaving out rows whose owner is unknown or whose id the
// owner already has (or that an earlier row of the batch took). A request
// that lost a row gets its other rows deleted again before COMMIT, and
// its own error: store.ErrNotFound or store.ErrExists. Rows go in batch
// order, so seq ascends in arrival order.
func (s *Store) insertArchive(ctx context.Context, batch []*archiveRequest) ([]error, error) {
	n := 0
	for _, r := range batch {
		n += len(r.msgs)
	}
	var (
		owners, ids, withs, bodies, words = make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		stamps                            = make([]time.Time, 0, n)
		stanzas                           = make([][]byte, 0, n)
	)
	for _, r := range batch {
		for i, m := range r.msgs {
			owners = append(owners, m.Owner)
			ids = append(ids, m.ID)
			withs = append(withs, m.With)
			stamps = append(stamps, m.Stamp)
			stanzas = append(stanzas, nonNil(m.Stanza))
			bodies = append(bodies, m.Text)
			words = append(words, r.words[i])
		}
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
	var b pgx.Batch
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, archiveLock)
	b.Queue(`INSERT INTO archive (owner, id, with_jid, stamp, stanza, body, words)
		SELECT m.owner, m.id, m.with_jid, m.stamp, m.stanza, m.body, array_to_tsvector(string_to_array(m.words, ' '))
		FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bytea[], $6::text[], $7::text[])
			WITH ORDINALITY AS m (owner, id, with_jid, stamp, stanza, body, words, n)
		WHERE EXISTS (SELECT 1 FROM archive_owners o WHERE o.owner = m.owner)
		ORDER BY m.n
		ON CONFLICT (owner, id) DO NOTHING
		RETURNING seq, owner, id`, owners, ids, withs, stamps, stanzas, bodies, words)
	br := tx.SendBatch(ctx, &b)
	type key struct{ owner, id string }
	inserted := make(map[key]int64, n)
	_, err = br.Exec()
	if err == nil {
		var rows pgx.Rows
		rows, err = br.Query()
		if err == nil {
			var seq int64
			var k key
			_, err = pgx.ForEachRow(rows, []any{&seq, &k.owner, &k.id}, func() error {
				inserted[k] = seq
				return nil
			})
		}
	}
	if err = errors.Join(err, br.Close()); err != nil {
		return nil, err
	}

	// Give each inserted row to the first request that proposed it; a
	// request missing any row failed.
	errs := make([]error, len(batch))
	var undo []int64
	var failedOwners []string
	claimed := make(map[key]bool, len(inserted))
	for i, r := range batch {
		var mine []int64
		for _, m := range r.msgs {
			k := key{m.Owner, m.ID}
			if seq, ok := inserted[k]; ok && !claimed[k] {
				claimed[k] = true
				mine = append(mine, seq)
				continue
			}
			errs[i] = store.ErrExists
			failedOwners = append(failedOwners, m.Owner)
		}
		if errs[i] != nil {
			undo = append(undo, mine...)
		}
	}
	if len(failedOwners) > 0 {
		known, err := tx.Query(ctx, `SELECT owner FROM archive_owners WHERE owner = ANY($1)`, failedOwners)
		if err != nil {
			return nil, err
		}
		exists, err := pgx.CollectRows(known, pgx.RowTo[string])
		if err != nil {
			return nil, err
		}
		for i, r := range batch {
			if errs[i] == nil {
				continue
			}
			for _, m := range r.msgs {
				if !slices.Contains(exists, m.Owner) {
					errs[i] = store.ErrNotFound
				}
			}
		}
	}
	if len(undo) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM archive WHERE seq = ANY($1)`, undo); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	s.commits.Add(1)
	return errs, nil
}

// maxLexeme is PostgreSQL's limit on the length of one tsvector lexeme.
const maxLexeme = 2046

// searchWords splits text into the words full-text search matches on:
// runs of letters and digits, lower-cased and without diacritics (so
// "Café" matches "cafe"), as SQLite's unicode61 tokenizer with
// remove_diacritics does. Words too long for a lexeme are dropped.
func searchWords(text string) []string {
	fields := strings.FieldsFunc(norm.NFD.String(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Mn, r)
	})
	words := fields[:0]
	for _, f := range fields {
		w := strings.ToLower(strings.Map(func(r rune) rune {
			if unicode.Is(unicode.Mn, r) {
				return -1
			}
			return r
		}, f))
		if w != "" && len(w) <= maxLexeme && utf8.ValidString(w) {
			words = append(words, w)
		}
	}
	return words
}

// ownerLexeme is the lexeme that tags an owner's messages in words: the
// owner in hex, or for an owner too long for a lexeme (a room JID may
// take 3 KiB) "h" and the hex of its SHA-256, which no hex can equal.
func ownerLexeme(owner string) string {
	if len(owner) > maxLexeme/2-1 {
		sum := sha256.Sum256([]byte(owner))
		return "_h" + hex.EncodeToString(sum[:])
	}
	return "_" + hex.EncodeToString([]byte(owner))
}

// indexWords is the words column of a message, as a space-separated list
// for array_to_tsvector: the owner's tag and the words, or nothing for a
// message without text (no search can match it).
func indexWords(owner, text string) string {
	words := searchWords(text)
	if len(words) == 0 {
		return ""
	}
	return ownerLexeme(owner) + " " + strings.Join(words, " ")
}

// searchQuery is the tsquery of a search: the owner's tag and every word.
// Lexemes hold only letters, digits, '_' and hex, so quoting them needs no
// escapes. It returns "" when text has no word (no text filter).
func searchQuery(owner, text string) string {
	words := searchWords(text)
	if len(words) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("'" + ownerLexeme(owner) + "'")
	for _, w := range words {
		b.WriteString(" & '" + w + "'")
	}
	return b.String()
}

// QueryArchive returns one page of owner's archive; see store.Archives.
func (s *Store) QueryArchive(ctx context.Context, owner string, q store.ArchiveQuery) (store.ArchivePage, error) {
	defer s.observe("QueryArchive", time.Now())
	if err := s.archiveShare.Acquire(ctx); err != nil {
		return store.ArchivePage{}, fmt.Errorf("postgres: query archive of %q: %w", owner, err)
	}
	defer s.archiveShare.Release()
	page, err := s.queryArchive(ctx, owner, q)
	if err != nil {
		return store.ArchivePage{}, fmt.Errorf("postgres: query archive of %q: %w", owner, err)
	}
	return page, nil
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

// ArchiveMetadata returns the first and last message of owner's archive.
func (s *Store) ArchiveMetadata(ctx context.Context, owner string) (store.ArchiveMetadata, error) {
	defer s.observe("ArchiveMetadata", time.Now())
	var md store.ArchiveMetadata
	err := s.pool.QueryRow(ctx, `SELECT f.id, f.stamp, l.id, l.stamp FROM
		(SELECT id, stamp FROM archive WHERE owner = $1 ORDER BY seq LIMIT 1) AS f,
		(SELECT id, stamp FROM archive WHERE owner = $1 ORDER BY seq DESC LIMIT 1) AS l`, owner).Scan(
		&md.FirstID, &md.FirstStamp, &md.LastID, &md.LastStamp)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ArchiveMetadata{}, nil
	}
	if err != nil {
		return store.ArchiveMetadata{}, fmt.Errorf("postgres: archive metadata of %q: %w", owner, err)
	}
	md.FirstStamp, md.LastStamp = md.FirstStamp.UTC(), md.LastStamp.UTC()
	return md, nil
}

// RetractArchived replaces owner's message id with tombstone; see
// store.Archives. Emptying words takes the message out of the full-text
// index (and out of archive_search's entries' matches).
func (s *Store) RetractArchived(ctx context.Context, owner, id string, tombstone []byte) error {
	defer s.observe("RetractArchived", time.Now())
	err := mustAffect(s.exec(ctx, `UPDATE archive SET stanza = $3, body = '', words = ''::tsvector
		WHERE owner = $1 AND id = $2`, owner, id, nonNil(tombstone)))
	if err != nil {
		return fmt.Errorf("postgres: retract archived %q of %q: %w", id, owner, err)
	}
	return nil
}

// DeleteArchive removes every archived message of owner.
func (s *Store) DeleteArchive(ctx context.Context, owner string) error {
	defer s.observe("DeleteArchive", time.Now())
	if _, err := s.exec(ctx, `DELETE FROM archive WHERE owner = $1`, owner); err != nil {
		return fmt.Errorf("postgres: delete archive of %q: %w", owner, err)
	}
	return nil
}

// ArchivePrefs returns owner's preferences; store.ErrNotFound if never set.
func (s *Store) ArchivePrefs(ctx context.Context, owner string) (store.ArchivePrefs, error) {
	defer s.observe("ArchivePrefs", time.Now())
	var p store.ArchivePrefs
	err := s.pool.QueryRow(ctx, `SELECT default_mode, always, never FROM archive_prefs WHERE owner = $1`,
		owner).Scan(&p.Default, &p.Always, &p.Never)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.ArchivePrefs{}, fmt.Errorf("postgres: archive prefs of %q: %w", owner, err)
	}
	if len(p.Always) == 0 {
		p.Always = nil
	}
	if len(p.Never) == 0 {
		p.Never = nil
	}
	return p, nil
}

// SetArchivePrefs replaces owner's preferences; store.ErrNotFound.
func (s *Store) SetArchivePrefs(ctx context.Context, owner string, p store.ArchivePrefs) error {
	defer s.observe("SetArchivePrefs", time.Now())
	sorted := func(l []string) []string {
		return nonNil(slices.Compact(slices.Sorted(slices.Values(l))))
	}
	_, err := s.exec(ctx, `INSERT INTO archive_prefs (owner, default_mode, always, never) VALUES ($1, $2, $3, $4)
		ON CONFLICT (owner) DO UPDATE SET default_mode = excluded.default_mode,
			always = excluded.always, never = excluded.never`, owner, p.Default, sorted(p.Always), sorted(p.Never))
	if err != nil {
		return fmt.Errorf("postgres: set archive prefs of %q: %w", owner, missingUser(err))
	}
	return nil
}
