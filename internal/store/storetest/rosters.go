package storetest

import (
	"context"
	"fmt"
	"testing"

	"parley/internal/store"
)

// carol is a fully populated roster item.
func carol() store.RosterItem {
	return store.RosterItem{
		JID:          "carol@example.net",
		Name:         "Carol",
		Groups:       []string{"Friends", "Work"},
		Subscription: store.SubBoth,
		AskOut:       true,
		PreApproved:  true,
	}
}

// put stores an item and checks the version it returns.
func put(t *testing.T, ctx context.Context, s store.Store, username string, it store.RosterItem, wantVersion int64) {
	t.Helper()
	v, err := s.PutRosterItem(ctx, username, it)
	must(t, "PutRosterItem", err)
	if v != wantVersion {
		t.Fatalf("PutRosterItem(%q, %q) version = %d, want %d", username, it.JID, v, wantVersion)
	}
}

// wantRoster checks the whole roster and its version.
func wantRoster(t *testing.T, ctx context.Context, s store.Store, username string, version int64, want ...store.RosterItem) {
	t.Helper()
	items, v, err := s.Roster(ctx, username)
	must(t, "Roster", err)
	if v != version {
		t.Errorf("Roster(%q) version = %d, want %d", username, v, version)
	}
	if !equalRoster(items, want) {
		t.Errorf("Roster(%q) =\n%swant\n%s", username, describe(items), describe(want))
	}
}

var rosterCases = []scenario{
	{"new_user_has_empty_roster_at_version_0", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		wantRoster(t, ctx, s, "alice", 0)
	}},
	{"put_then_get_round_trips", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		put(t, ctx, s, "alice", carol(), 1)
		got, err := s.RosterItem(ctx, "alice", "carol@example.net")
		must(t, "RosterItem", err)
		if !equalItem(got, carol()) {
			t.Fatalf("RosterItem = %+v, want %+v", got, carol())
		}
		wantRoster(t, ctx, s, "alice", 1, carol())
	}},
	{"put_replaces_the_whole_item", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		put(t, ctx, s, "alice", carol(), 1)
		changed := store.RosterItem{JID: "carol@example.net", Subscription: store.SubFrom}
		put(t, ctx, s, "alice", changed, 2)
		wantRoster(t, ctx, s, "alice", 2, changed)
	}},
	{"groups_come_back_sorted_and_unique", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		it := carol()
		it.Groups = []string{"Work", "Friends", "Work", "Ärzte", "friends"}
		put(t, ctx, s, "alice", it, 1)
		got, err := s.RosterItem(ctx, "alice", it.JID)
		must(t, "RosterItem", err)
		wantStrings(t, "Groups", got.Groups, []string{"Friends", "Work", "friends", "Ärzte"})
	}},
	{"version_rises_by_one_per_change_per_user", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		a, b, c := carol(), carol(), carol()
		b.JID, c.JID = "dave@example.net", "erin@example.net"
		put(t, ctx, s, "alice", a, 1)
		put(t, ctx, s, "bob", a, 1)
		put(t, ctx, s, "alice", b, 2)
		put(t, ctx, s, "alice", b, 3) // an identical put is still a change
		v, err := s.DeleteRosterItem(ctx, "alice", a.JID)
		must(t, "DeleteRosterItem", err)
		if v != 4 {
			t.Fatalf("DeleteRosterItem version = %d, want 4", v)
		}
		put(t, ctx, s, "alice", c, 5)
		wantRoster(t, ctx, s, "alice", 5, b, c)
		wantRoster(t, ctx, s, "bob", 1, a)
	}},
	{"delete_removes_only_that_item", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		other := carol()
		other.JID = "dave@example.net"
		put(t, ctx, s, "alice", carol(), 1)
		put(t, ctx, s, "alice", other, 2)
		if _, err := s.DeleteRosterItem(ctx, "alice", "carol@example.net"); err != nil {
			t.Fatalf("DeleteRosterItem: %v", err)
		}
		_, err := s.RosterItem(ctx, "alice", "carol@example.net")
		wantErr(t, "RosterItem after delete", err, store.ErrNotFound)
		wantRoster(t, ctx, s, "alice", 3, other)
	}},
	{"delete_unknown_is_ErrNotFound_and_keeps_version", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		put(t, ctx, s, "alice", carol(), 1)
		_, err := s.DeleteRosterItem(ctx, "alice", "nobody@example.net")
		wantErr(t, "DeleteRosterItem(unknown)", err, store.ErrNotFound)
		wantRoster(t, ctx, s, "alice", 1, carol())
	}},
	{"item_of_another_user_is_ErrNotFound", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		put(t, ctx, s, "alice", carol(), 1)
		_, err := s.RosterItem(ctx, "bob", "carol@example.net")
		wantErr(t, "RosterItem(bob)", err, store.ErrNotFound)
	}},
	{"hidden_item_with_pending_stanza_round_trips", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		it := store.RosterItem{
			JID:             "stranger@example.org",
			Subscription:    store.SubNone,
			PendingIn:       true,
			PendingInStanza: []byte(`<presence from="stranger@example.org" type="subscribe"><status>hi</status></presence>`),
			Hidden:          true,
		}
		put(t, ctx, s, "alice", it, 1)
		got, err := s.RosterItem(ctx, "alice", it.JID)
		must(t, "RosterItem", err)
		if !equalItem(got, it) {
			t.Fatalf("RosterItem = %+v, want %+v", got, it)
		}
		wantRoster(t, ctx, s, "alice", 1, it)
	}},
	{"every_subscription_state_round_trips", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		var want []store.RosterItem
		for i, sub := range []string{store.SubNone, store.SubTo, store.SubFrom, store.SubBoth} {
			it := store.RosterItem{JID: sub + "@example.net", Subscription: sub, PendingIn: i%2 == 0, AskOut: i%2 == 1}
			put(t, ctx, s, "alice", it, int64(i+1))
			want = append(want, it)
		}
		wantRoster(t, ctx, s, "alice", 4, want...)
	}},
	{"version_never_goes_back_after_account_is_recreated", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		put(t, ctx, s, "alice", carol(), 1)
		put(t, ctx, s, "alice", carol(), 2)
		must(t, "DeleteUser", s.DeleteUser(ctx, "alice"))
		create(t, ctx, s, "alice")
		items, v, err := s.Roster(ctx, "alice")
		must(t, "Roster", err)
		if len(items) != 0 {
			t.Fatalf("roster survived delete: %s", describe(items))
		}
		v2, err := s.PutRosterItem(ctx, "alice", carol())
		must(t, "PutRosterItem", err)
		if v2 <= 2 || v2 <= v {
			t.Fatalf("version after recreate = %d (read %d before the put), want > 2", v2, v)
		}
	}},
	{"roster_and_version_are_read_together", testRosterSnapshot},
}

// testRosterSnapshot reads the roster while another goroutine adds items,
// one new contact per change, so a consistent read always has exactly as
// many items as its version: a version read apart from its items would
// let a client cache a roster under the wrong version.
func testRosterSnapshot(t *testing.T, ctx context.Context, s store.Store) {
	create(t, ctx, s, "alice")
	const adds = 100
	done := make(chan error, 1)
	go func() {
		for i := range adds {
			it := store.RosterItem{JID: fmt.Sprintf("c%03d@example.net", i), Subscription: store.SubNone}
			if _, err := s.PutRosterItem(ctx, "alice", it); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for {
		items, v, err := s.Roster(ctx, "alice")
		must(t, "Roster", err)
		if int64(len(items)) != v {
			t.Fatalf("Roster returned %d items at version %d", len(items), v)
		}
		if v == adds {
			break
		}
	}
	must(t, "PutRosterItem", <-done)
}
