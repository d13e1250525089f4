package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"slices"
	"testing"

	"parley/internal/store"
)

// TestRoomArchivesMigration upgrades a database holding an archive from
// schema 3 (archive owners are users) to the current one (users or rooms)
// and checks that the old archive, its full-text index and its order are
// kept, that a room may own an archive, that unknown owners still fail,
// and that deleting an account or a room still deletes its archive.
func TestRoomArchivesMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	uri := (&url.URL{Scheme: "file", Path: path}).String()
	db, err := sql.Open("sqlite", uri+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if err := migrate(ctx, db, migrations[:3]); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO users (username, sha1_salt, sha1_iter, sha1_stored, sha1_server, sha256_salt,
			sha256_iter, sha256_stored, sha256_server, created) VALUES ('alice', x'', 1, x'', x'', x'', 1, x'', x'', 0)`,
		`INSERT INTO archive (owner, id, with_jid, stamp, stanza, body) VALUES
			('alice', 'a1', 'bob@example.com', 1, x'', 'hello old world'),
			('alice', 'a2', 'bob@example.com', 2, x'', 'second')`,
		`INSERT INTO muc_rooms (jid, config, secret, subject, subject_from, created)
			VALUES ('coven@conference.example.com', x'', x'', '', '', 0)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids := func(owner string, q store.ArchiveQuery) []string {
		t.Helper()
		q.Limit = 100
		p, err := s.QueryArchive(ctx, owner, q)
		if err != nil {
			t.Fatalf("query %s: %v", owner, err)
		}
		var out []string
		for _, m := range p.Messages {
			out = append(out, m.ID)
		}
		return out
	}
	const room = "coven@conference.example.com"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.AppendArchive(ctx, []store.ArchivedMessage{
		{Owner: "alice", ID: "a3", With: "bob@example.com", Stanza: []byte("<message/>"), Text: "new world"},
		{Owner: room, ID: "r1", With: room + "/crone", Stanza: []byte("<message/>"), Text: "room world"},
	}))
	if got := ids("alice", store.ArchiveQuery{}); !slices.Equal(got, []string{"a1", "a2", "a3"}) {
		t.Fatalf("alice's archive after migration: %v", got)
	}
	if got := ids("alice", store.ArchiveQuery{Text: "world"}); !slices.Equal(got, []string{"a1", "a3"}) {
		t.Fatalf("alice's search after migration: %v", got)
	}
	if got := ids(room, store.ArchiveQuery{Text: "world"}); !slices.Equal(got, []string{"r1"}) {
		t.Fatalf("room search: %v", got)
	}
	err = s.AppendArchive(ctx, []store.ArchivedMessage{{Owner: "nobody@conference.example.com", ID: "x", Stanza: []byte("<message/>")}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("append for an unknown owner: %v", err)
	}

	// A room created after the migration owns an archive too.
	must(s.PutRoom(ctx, store.Room{JID: "new@conference.example.com"}))
	must(s.AppendArchive(ctx, []store.ArchivedMessage{{Owner: "new@conference.example.com", ID: "n1", Stanza: []byte("<message/>"), Text: "world"}}))

	must(s.DeleteRoom(ctx, room))
	if got := ids(room, store.ArchiveQuery{}); got != nil {
		t.Fatalf("archive of a deleted room: %v", got)
	}
	must(s.DeleteUser(ctx, "alice"))
	if got := ids("alice", store.ArchiveQuery{Text: "world"}); got != nil {
		t.Fatalf("archive of a deleted account: %v", got)
	}
	if got := ids("new@conference.example.com", store.ArchiveQuery{Text: "world"}); !slices.Equal(got, []string{"n1"}) {
		t.Fatalf("other room's archive: %v", got)
	}
}
