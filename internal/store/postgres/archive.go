package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
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
// room still cascades to its archive (since migration 21 a statement
// trigger does both; see archiveOwnerCheckSchema).
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

// archiveOwnerCheckSchema is the migration step that replaces the
// archive's foreign key to archive_owners with a check per statement.
// A foreign key checks every inserted row with a query of its own, the
// largest single share of the server's CPU per archived row
// (17_archive_cost.md). The append statement's trigger (archive_count_add)
// already updates each owner of its rows once; the owners it did not find
// are the rows a foreign key would refuse, so it raises the same error
// (foreign_key_violation). Its UPDATE locks those owner rows as the key
// did, so an owner deleted meanwhile either fails the statement or waits
// for its commit and then deletes its rows: archive_owner_cascade is the
// ON DELETE CASCADE. Nothing updates archive.owner.
const archiveOwnerCheckSchema = `
ALTER TABLE archive DROP CONSTRAINT archive_owner_fkey;
CREATE OR REPLACE FUNCTION archive_count_add() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	owners bigint;
	found bigint;
BEGIN
	WITH c AS (SELECT owner, count(*) AS n FROM added GROUP BY owner),
		u AS (UPDATE archive_owners o SET entries = o.entries + c.n FROM c WHERE c.owner = o.owner RETURNING 1)
	SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM u) INTO owners, found;
	IF found < owners THEN
		RAISE foreign_key_violation USING MESSAGE = 'archived message of an unknown owner';
	END IF;
	RETURN NULL;
END $$;
CREATE FUNCTION archive_owner_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM archive WHERE owner = OLD.owner;
	RETURN NULL;
END $$;
CREATE TRIGGER archive_owner_cascade AFTER DELETE ON archive_owners
	FOR EACH ROW EXECUTE FUNCTION archive_owner_cascade();
`

// searchWordsShort and searchWordsLong select the rows of archive_search
// and archive_search_long; they must repeat those indexes' predicates.
const (
	searchWordsShort = "octet_length(words::text) <= 1500"
	searchWordsLong  = "octet_length(words::text) > 1500"
)

// ArchiveMetadata returns the first and last message of owner's archive.
func (s *Store) ArchiveMetadata(ctx context.Context, owner string) (store.ArchiveMetadata, error) {
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
	err := mustAffect(s.exec(ctx, `UPDATE archive SET stanza = $3, body = '', words = ''::tsvector
		WHERE owner = $1 AND id = $2`, owner, id, nonNil(tombstone)))
	if err != nil {
		return fmt.Errorf("postgres: retract archived %q of %q: %w", id, owner, err)
	}
	return nil
}

// DeleteArchive removes every archived message of owner.
func (s *Store) DeleteArchive(ctx context.Context, owner string) error {
	if _, err := s.exec(ctx, `DELETE FROM archive WHERE owner = $1`, owner); err != nil {
		return fmt.Errorf("postgres: delete archive of %q: %w", owner, err)
	}
	return nil
}

// ArchivePrefs returns owner's preferences; store.ErrNotFound if never set.
func (s *Store) ArchivePrefs(ctx context.Context, owner string) (store.ArchivePrefs, error) {
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
