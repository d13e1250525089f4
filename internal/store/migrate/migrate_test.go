package migrate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"parley/internal/store"
	"parley/internal/store/sqlite"
)

func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fill stores a little of everything, with nanosecond stamps (which a
// PostgreSQL destination keeps to the microsecond).
func fill(t *testing.T, ctx context.Context, s store.Store) {
	t.Helper()
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)
	keys := func(n string) store.ScramKeys {
		return store.ScramKeys{Salt: []byte("salt-" + n), Iterations: 4096, StoredKey: []byte("st-" + n), ServerKey: []byte("sv-" + n)}
	}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, u := range []string{"alice", "bob", "gone", "ålf"} {
		check(s.CreateUser(ctx, store.User{Username: u, SHA1: keys(u + "1"), SHA256: keys(u + "256"), Created: t0.Add(time.Duration(i) * time.Hour)}))
	}
	for i := range 3 {
		_, err := s.PutRosterItem(ctx, "alice", store.RosterItem{JID: fmt.Sprintf("c%d@example.net", i), Name: "C",
			Groups: []string{"Work", "Friends"}, Subscription: store.SubBoth, PendingIn: i == 1, PendingInStanza: []byte("<presence/>")})
		check(err)
	}
	_, err := s.PutRosterItem(ctx, "alice", store.RosterItem{JID: "c0@example.net", Subscription: store.SubTo}) // version 4
	check(err)
	_, err = s.PutRosterItem(ctx, "gone", store.RosterItem{JID: "x@example.net", Subscription: store.SubNone})
	check(err)
	check(s.DeleteUser(ctx, "gone")) // leaves roster version 1 behind
	for i := range 3 {
		check(s.StoreOffline(ctx, "bob", store.OfflineMessage{Stamp: t0.Add(time.Duration(i) * time.Second), Stanza: fmt.Appendf(nil, "<message>%d</message>", i)}))
	}
	check(s.SetVCard(ctx, "alice", []byte("<vCard xmlns='vcard-temp'/>")))
	check(s.SetPrivateXML(ctx, "alice", "storage storage:bookmarks", []byte("<storage/>")))
	check(s.SetPrivateXML(ctx, "alice", "a b", []byte("<a/>")))
	check(s.Block(ctx, "bob", []string{"eve@example.net", "spam.example"}))
	check(s.SetArchivePrefs(ctx, "alice", store.ArchivePrefs{Default: store.ArchiveRoster, Always: []string{"c1@example.net"}}))
	// Two PEP nodes of alice, one trimmed to its newest items, whose
	// order (not their ids') must survive the copy.
	check(s.PutPEPNode(ctx, "alice", store.PEPNode{Node: "urn:xmpp:bookmarks:1", AccessModel: store.AccessWhitelist, PersistItems: true, MaxItems: 3}))
	check(s.PutPEPNode(ctx, "alice", store.PEPNode{Node: "urn:xmpp:avatar:metadata", AccessModel: store.AccessPresence, MaxItems: 1}))
	for i, id := range []string{"z", "b", "y", "a", "b"} {
		check(s.PublishPEPItem(ctx, "alice", "urn:xmpp:bookmarks:1", store.PEPItem{ID: id,
			Payload: []byte("<conference xmlns='urn:xmpp:bookmarks:1'/>"), Updated: t0.Add(time.Duration(i) * time.Minute)}))
	}
	check(s.PublishPEPItem(ctx, "alice", "urn:xmpp:avatar:metadata", store.PEPItem{ID: "sha1", Payload: []byte("<metadata/>"), Updated: t0}))
	check(s.PutPEPNode(ctx, "bob", store.PEPNode{Node: "empty", AccessModel: store.AccessOpen, MaxItems: 10}))
	const room = "lobby@conference.example.net"
	check(s.PutRoom(ctx, store.Room{JID: room, Config: []byte(`{"name":"Lobby"}`), Secret: []byte("s"), Subject: "hi", SubjectFrom: room + "/al", Created: t0}))
	check(s.SetRoomAffiliation(ctx, room, store.RoomAffiliation{JID: "alice@example.net", Affiliation: "owner"}))
	check(s.SetRoomAffiliation(ctx, room, store.RoomAffiliation{JID: "eve@example.net", Affiliation: "outcast", Reason: "spam"}))
	check(s.SetRoomVCard(ctx, room, []byte(`<vCard xmlns="vcard-temp"><FN>Lobby</FN></vCard>`)))
	for _, owner := range []string{"alice", "bob", room} {
		n := 1100 // more than one page
		if owner != "alice" {
			n = 5
		}
		var msgs []store.ArchivedMessage
		for i := range n {
			id := fmt.Sprintf("%s-%c%d", owner, 'z'-rune(i%26), i) // ids that do not sort like the archive
			msgs = append(msgs, store.ArchivedMessage{Owner: owner, ID: id, With: "c1@example.net",
				Stamp: t0.Add(time.Duration(i) * time.Millisecond), Stanza: []byte("<message><body>café " + id + "</body></message>"), Text: "café " + id})
			if len(msgs) == 1000 || i == n-1 {
				check(s.AppendArchive(ctx, msgs))
				msgs = msgs[:0]
			}
		}
	}
}

func TestCopy(t *testing.T) {
	ctx := t.Context()
	from, to := openSQLite(t), openSQLite(t)
	fill(t, ctx, from)
	r, err := Copy(ctx, from, to)
	if err != nil {
		t.Fatalf("Copy: %v (%+v)", err, r)
	}
	want := map[string]int{"users": 3, "roster items": 3, "roster versions": 2, "offline messages": 3, "vcards": 1,
		"private xml": 2, "block list entries": 2, "archived messages": 1110, "archive preferences": 1, "rooms": 1, "room affiliations": 2,
		"pep nodes": 3, "pep items": 4}
	for _, tb := range r.Tables {
		if tb.From != want[tb.Name] || tb.To != tb.From {
			t.Errorf("%s: from %d to %d, want %d", tb.Name, tb.From, tb.To, want[tb.Name])
		}
	}
	if r.Users != 3 || r.Rooms != 1 || !r.Equal() || len(r.Checksum) != 64 {
		t.Fatalf("report %+v", r)
	}
	// What the interfaces read is what was written, including the parts
	// the checksum covers only indirectly.
	_, v, err := to.Roster(ctx, "alice")
	if err != nil || v != 4 {
		t.Fatalf("alice's roster version %d, %v; want 4", v, err)
	}
	if err := to.CreateUser(ctx, store.User{Username: "gone"}); err != nil {
		t.Fatal(err)
	}
	if v, err := to.PutRosterItem(ctx, "gone", store.RosterItem{JID: "y@example.net", Subscription: store.SubNone}); err != nil || v != 2 {
		t.Fatalf("re-created account's first roster version %d, %v; want 2", v, err)
	}
	items, err := to.PEPItems(ctx, "alice", "urn:xmpp:bookmarks:1", nil, 0)
	if err != nil || len(items) != 3 || items[0].ID != "y" || items[2].ID != "b" ||
		items[2].Updated.UnixMicro() != time.Date(2025, 1, 2, 3, 8, 5, 123456000, time.UTC).UnixMicro() {
		t.Fatalf("bookmarks in the copy: %+v, %v", items, err)
	}
	if v, err := to.RoomVCard(ctx, "lobby@conference.example.net"); err != nil || string(v) != `<vCard xmlns="vcard-temp"><FN>Lobby</FN></vCard>` {
		t.Fatalf("room vCard in the copy: %q, %v", v, err)
	}
	p, err := to.QueryArchive(ctx, "alice", store.ArchiveQuery{Text: "CAFE", Limit: 1, Last: true, Count: true})
	if err != nil || p.Count != 1100 || p.Messages[0].ID != "alice-s1099" {
		t.Fatalf("search in the copy: %+v, %v", p, err)
	}
}

func TestCopyRefusesNonEmptyDestination(t *testing.T) {
	ctx := t.Context()
	from, to := openSQLite(t), openSQLite(t)
	fill(t, ctx, from)
	if err := to.RaiseRosterVersion(ctx, "someone", 3); err != nil {
		t.Fatal(err)
	}
	if _, err := Copy(ctx, from, to); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("Copy into a store with a roster version: %v", err)
	}
	if users, _ := to.ListUsers(ctx); len(users) != 0 {
		t.Fatalf("refused copy wrote %v", users)
	}
}

// TestVerifyFindsDifferences changes one thing at a time in a copy and
// checks that Verify names the owner (or the count) that differs.
func TestVerifyFindsDifferences(t *testing.T) {
	ctx := t.Context()
	from := openSQLite(t)
	fill(t, ctx, from)
	for i, tc := range []struct {
		change func(s store.Store) error
		want   string // a mismatching owner
	}{
		{func(s store.Store) error { return s.SetPrivateXML(ctx, "alice", "a b", []byte("<b/>")) }, "user alice"},
		{func(s store.Store) error { return s.Unblock(ctx, "bob", []string{"eve@example.net"}) }, "user bob"},
		{func(s store.Store) error { return s.RaiseRosterVersion(ctx, "alice", 5) }, "user alice"},
		{func(s store.Store) error {
			return s.AppendArchive(ctx, []store.ArchivedMessage{{Owner: "bob", ID: "extra", Stanza: []byte("<message/>")}})
		}, "user bob"},
		{func(s store.Store) error {
			return s.SetRoomAffiliation(ctx, "lobby@conference.example.net", store.RoomAffiliation{JID: "eve@example.net"})
		}, "room lobby@conference.example.net"},
		{func(s store.Store) error { return s.RaiseRosterVersion(ctx, "gone", 2) }, "roster versions"},
		{func(s store.Store) error {
			return s.PublishPEPItem(ctx, "alice", "urn:xmpp:bookmarks:1", store.PEPItem{ID: "y", Payload: []byte("<conference xmlns='urn:xmpp:bookmarks:1'/>")})
		}, "user alice"}, // same items, "y" now the newest
		{func(s store.Store) error {
			return s.PutPEPNode(ctx, "bob", store.PEPNode{Node: "empty", AccessModel: store.AccessPresence, MaxItems: 10})
		}, "user bob"},
		{func(s store.Store) error { return s.CreateUser(ctx, store.User{Username: "new"}) }, "user new"},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			to := openSQLite(t)
			if _, err := Copy(ctx, from, to); err != nil {
				t.Fatal(err)
			}
			if err := tc.change(to); err != nil {
				t.Fatal(err)
			}
			r, err := Verify(ctx, from, to)
			if !errors.Is(err, ErrMismatch) || r.Equal() {
				t.Fatalf("Verify after a change: %v, %+v", err, r)
			}
			found := false
			for _, m := range r.Mismatches {
				found = found || m == tc.want
			}
			if !found {
				t.Fatalf("mismatches %v, want %q among them", r.Mismatches, tc.want)
			}
		})
	}
}
