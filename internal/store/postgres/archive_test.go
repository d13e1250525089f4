package postgres

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"parley/internal/store"
)

// TestRoomArchives checks what the conformance suite does not: a
// persistent room owns an archive under its JID, an owner that is neither
// an account nor a room is refused, and deleting a room or an account
// deletes its archive (and search index) with it.
func TestRoomArchives(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	const room = "coven@conference.example.com"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ids := func(owner, text string) []string {
		t.Helper()
		p, err := s.QueryArchive(ctx, owner, store.ArchiveQuery{Text: text, Limit: 10})
		must(err)
		var out []string
		for _, m := range p.Messages {
			out = append(out, m.ID)
		}
		return out
	}
	must(s.CreateUser(ctx, newUser("alice")))
	must(s.PutRoom(ctx, store.Room{JID: room}))
	must(s.AppendArchive(ctx, []store.ArchivedMessage{
		{Owner: "alice", ID: "a1", With: "bob@example.com", Stanza: []byte("<message/>"), Text: "new world"},
		{Owner: room, ID: "r1", With: room + "/crone", Stanza: []byte("<message/>"), Text: "room world"},
	}))
	if got := ids(room, "world"); !slices.Equal(got, []string{"r1"}) {
		t.Fatalf("room search: %v", got)
	}
	err := s.AppendArchive(ctx, []store.ArchivedMessage{{Owner: "nobody@conference.example.com", ID: "x", Stanza: []byte("<message/>")}})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("append for an unknown owner: %v", err)
	}
	must(s.PutRoom(ctx, store.Room{JID: room, Subject: "replaced"})) // replacing keeps the archive
	if got := ids(room, ""); !slices.Equal(got, []string{"r1"}) {
		t.Fatalf("room archive after PutRoom: %v", got)
	}
	must(s.DeleteRoom(ctx, room))
	if got := ids(room, ""); got != nil {
		t.Fatalf("archive of a deleted room: %v", got)
	}
	must(s.PutRoom(ctx, store.Room{JID: room}))
	if got := ids(room, "world"); got != nil {
		t.Fatalf("archive of a re-created room: %v", got)
	}
	// A room JID too long for a lexeme of its own.
	long := strings.Repeat("r", 1023) + "@" + strings.Repeat("c", 1500) + ".example.com"
	must(s.PutRoom(ctx, store.Room{JID: long}))
	must(s.AppendArchive(ctx, []store.ArchivedMessage{{Owner: long, ID: "l1", Stanza: []byte("<message/>"), Text: "long world"}}))
	if got := ids(long, "world"); !slices.Equal(got, []string{"l1"}) {
		t.Fatalf("search in a long-named room: %v", got)
	}
	must(s.DeleteUser(ctx, "alice"))
	if got := ids("alice", "world"); got != nil {
		t.Fatalf("archive of a deleted account: %v", got)
	}
}

// TestSearchWords pins the folding shared by indexing and searching.
func TestSearchWords(t *testing.T) {
	for i, tc := range []struct {
		in   string
		want []string
	}{
		0: {"Meet me at the Café", []string{"meet", "me", "at", "the", "cafe"}},
		1: {"CAFE\u0301, naïve!", []string{"cafe", "naive"}},
		2: {`"parens" AND (x) *`, []string{"parens", "and", "x"}},
		3: {"  ", nil},
		4: {"Ünïcödé 42nd 東京", []string{"unicode", "42nd", "東京"}},
	} {
		if got := searchWords(tc.in); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("%d: searchWords(%q) = %q, want %q", i, tc.in, got, tc.want)
		}
	}
}
