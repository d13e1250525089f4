package storetest

import (
	"context"
	"testing"
	"time"

	"parley/internal/store"
)

var userCases = []scenario{
	{"create_then_get_round_trips", func(t *testing.T, ctx context.Context, s store.Store) {
		want := user("alice")
		must(t, "CreateUser", s.CreateUser(ctx, want))
		wantUser(t, ctx, s, "GetUser", want)
	}},
	{"zero_created_means_now", func(t *testing.T, ctx context.Context, s store.Store) {
		u := user("alice")
		u.Created = time.Time{}
		before := time.Now()
		must(t, "CreateUser", s.CreateUser(ctx, u))
		after := time.Now()
		got, err := s.GetUser(ctx, "alice")
		must(t, "GetUser", err)
		recent(t, "Created", got.Created, before, after)
	}},
	{"duplicate_is_ErrExists_and_keeps_original", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		dup := user("alice")
		dup.SHA256.Iterations = 1
		wantErr(t, "second CreateUser", s.CreateUser(ctx, dup), store.ErrExists)
		wantUser(t, ctx, s, "GetUser after duplicate (the original)", user("alice"))
	}},
	{"disable_and_reenable_keeps_the_account", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		must(t, "SetUserDisabled", s.SetUserDisabled(ctx, "alice", true))
		got, err := s.GetUser(ctx, "alice")
		must(t, "GetUser", err)
		want := user("alice")
		want.Disabled = true
		if !equalUser(got, want) {
			t.Fatalf("disabled: GetUser = %+v, want %+v", got, want)
		}
		if bob, _ := s.GetUser(ctx, "bob"); bob.Disabled {
			t.Fatal("disabling alice disabled bob")
		}
		must(t, "SetUserDisabled(false)", s.SetUserDisabled(ctx, "alice", false))
		wantUser(t, ctx, s, "re-enabled: GetUser", user("alice"))
		wantErr(t, "SetUserDisabled(carol)", s.SetUserDisabled(ctx, "carol", true), store.ErrNotFound)
		// Created disabled stays so (parley migrate copies accounts so).
		d := user("dave")
		d.Disabled = true
		must(t, "CreateUser(disabled)", s.CreateUser(ctx, d))
		if got, _ := s.GetUser(ctx, "dave"); !got.Disabled {
			t.Fatal("created disabled, read enabled")
		}
	}},
	{"bot_flag_round_trips", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		b := user("ci")
		b.Bot = true
		must(t, "CreateUser(bot)", s.CreateUser(ctx, b))
		wantUser(t, ctx, s, "bot: GetUser", b)
		if got, _ := s.GetUser(ctx, "alice"); got.Bot {
			t.Fatal("a person's account reads as a bot")
		}
	}},
	{"get_unknown_is_ErrNotFound", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		_, err := s.GetUser(ctx, "bob")
		wantErr(t, "GetUser(bob)", err, store.ErrNotFound)
	}},
	{"set_keys_replaces_both_and_keeps_created", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		other := user("other")
		must(t, "SetUserKeys", s.SetUserKeys(ctx, "alice", other.SHA1, other.SHA256))
		want := user("alice")
		want.SHA1, want.SHA256 = other.SHA1, other.SHA256
		wantUser(t, ctx, s, "GetUser", want)
		wantUser(t, ctx, s, "GetUser(bob) after alice's keys changed", user("bob"))
	}},
	{"delete_removes_account", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		must(t, "DeleteUser", s.DeleteUser(ctx, "alice"))
		_, err := s.GetUser(ctx, "alice")
		wantErr(t, "GetUser after delete", err, store.ErrNotFound)
		names, err := s.ListUsers(ctx)
		must(t, "ListUsers", err)
		wantStrings(t, "ListUsers", names, []string{"bob"})
		wantErr(t, "second DeleteUser", s.DeleteUser(ctx, "alice"), store.ErrNotFound)
	}},
	{"delete_cascades_to_everything_owned", testDeleteCascades},
	{"list_is_sorted", func(t *testing.T, ctx context.Context, s store.Store) {
		names, err := s.ListUsers(ctx)
		must(t, "ListUsers on empty store", err)
		wantStrings(t, "ListUsers on empty store", names, nil)
		create(t, ctx, s, "carol", "alice", "bob", "al", "ålf")
		names, err = s.ListUsers(ctx)
		must(t, "ListUsers", err)
		wantStrings(t, "ListUsers", names, []string{"al", "alice", "bob", "carol", "ålf"})
	}},
}

// testDeleteCascades gives two users one of everything, deletes one, and
// checks that nothing of hers is left (even once the name is reused) and
// nothing of the other's is gone.
func testDeleteCascades(t *testing.T, ctx context.Context, s store.Store) {
	create(t, ctx, s, "alice", "bob")
	for _, u := range []string{"alice", "bob"} {
		_, err := s.PutRosterItem(ctx, u, store.RosterItem{JID: "carol@example.net", Subscription: store.SubBoth})
		must(t, "PutRosterItem", err)
		must(t, "StoreOffline", s.StoreOffline(ctx, u, store.OfflineMessage{Stanza: []byte("<message/>")}))
		must(t, "SetVCard", s.SetVCard(ctx, u, []byte("<vCard/>")))
		must(t, "SetPrivateXML", s.SetPrivateXML(ctx, u, "k ns", []byte("<k/>")))
		must(t, "Block", s.Block(ctx, u, []string{"spam@example.org"}))
	}
	must(t, "DeleteUser", s.DeleteUser(ctx, "alice"))
	create(t, ctx, s, "alice")

	items, _, err := s.Roster(ctx, "alice")
	must(t, "Roster", err)
	if len(items) != 0 {
		t.Errorf("roster survived delete: %s", describe(items))
	}
	if n, err := s.CountOffline(ctx, "alice"); err != nil || n != 0 {
		t.Errorf("CountOffline = %d, %v; want 0", n, err)
	}
	if _, err := s.VCard(ctx, "alice"); !errorsIsNotFound(err) {
		t.Errorf("VCard after delete: %v, want ErrNotFound", err)
	}
	if _, err := s.PrivateXML(ctx, "alice", "k ns"); !errorsIsNotFound(err) {
		t.Errorf("PrivateXML after delete: %v, want ErrNotFound", err)
	}
	if l, err := s.Blocklist(ctx, "alice"); err != nil || len(l) != 0 {
		t.Errorf("Blocklist = %q, %v; want empty", l, err)
	}

	items, _, err = s.Roster(ctx, "bob")
	must(t, "Roster(bob)", err)
	if len(items) != 1 {
		t.Errorf("bob's roster = %s, want one item", describe(items))
	}
	if n, err := s.CountOffline(ctx, "bob"); err != nil || n != 1 {
		t.Errorf("CountOffline(bob) = %d, %v; want 1", n, err)
	}
	if _, err := s.VCard(ctx, "bob"); err != nil {
		t.Errorf("VCard(bob): %v", err)
	}
	if _, err := s.PrivateXML(ctx, "bob", "k ns"); err != nil {
		t.Errorf("PrivateXML(bob): %v", err)
	}
	if l, err := s.Blocklist(ctx, "bob"); err != nil || len(l) != 1 {
		t.Errorf("Blocklist(bob) = %q, %v; want one", l, err)
	}
}

// unknownUserCases are operations naming an account that does not exist
// (ghost) in a store where another (alice) does.
func unknownUserCases() []scenario {
	const ghost = "ghost"
	notFound := []struct {
		name string
		op   func(ctx context.Context, s store.Store) error
	}{
		{"GetUser", func(ctx context.Context, s store.Store) error { _, err := s.GetUser(ctx, ghost); return err }},
		{"SetUserKeys", func(ctx context.Context, s store.Store) error {
			return s.SetUserKeys(ctx, ghost, user(ghost).SHA1, user(ghost).SHA256)
		}},
		{"DeleteUser", func(ctx context.Context, s store.Store) error { return s.DeleteUser(ctx, ghost) }},
		{"RosterItem", func(ctx context.Context, s store.Store) error {
			_, err := s.RosterItem(ctx, ghost, "carol@example.net")
			return err
		}},
		{"PutRosterItem", func(ctx context.Context, s store.Store) error {
			_, err := s.PutRosterItem(ctx, ghost, store.RosterItem{JID: "carol@example.net", Subscription: store.SubNone})
			return err
		}},
		{"DeleteRosterItem", func(ctx context.Context, s store.Store) error {
			_, err := s.DeleteRosterItem(ctx, ghost, "carol@example.net")
			return err
		}},
		{"StoreOffline", func(ctx context.Context, s store.Store) error {
			return s.StoreOffline(ctx, ghost, store.OfflineMessage{Stanza: []byte("<message/>")})
		}},
		{"VCard", func(ctx context.Context, s store.Store) error { _, err := s.VCard(ctx, ghost); return err }},
		{"SetVCard", func(ctx context.Context, s store.Store) error { return s.SetVCard(ctx, ghost, []byte("<vCard/>")) }},
		{"PrivateXML", func(ctx context.Context, s store.Store) error { _, err := s.PrivateXML(ctx, ghost, "k ns"); return err }},
		{"SetPrivateXML", func(ctx context.Context, s store.Store) error {
			return s.SetPrivateXML(ctx, ghost, "k ns", []byte("<k/>"))
		}},
		{"Block", func(ctx context.Context, s store.Store) error { return s.Block(ctx, ghost, []string{"x@example.org"}) }},
	}
	var cases []scenario
	for _, c := range notFound {
		cases = append(cases, scenario{c.name + "_is_ErrNotFound_and_leaves_no_trace", func(t *testing.T, ctx context.Context, s store.Store) {
			create(t, ctx, s, "alice")
			wantErr(t, c.name, c.op(ctx, s), store.ErrNotFound)
			wantNothingFor(t, ctx, s, ghost)
		}})
	}
	cases = append(cases, scenario{"collections_are_empty", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		wantNothingFor(t, ctx, s, ghost)
		must(t, "DeleteOffline", s.DeleteOffline(ctx, ghost, []int64{1, 2}))
		must(t, "Unblock", s.Unblock(ctx, ghost, nil))
	}})
	return cases
}

// wantNothingFor checks that the store holds nothing at all for username.
func wantNothingFor(t *testing.T, ctx context.Context, s store.Store, username string) {
	t.Helper()
	items, version, err := s.Roster(ctx, username)
	if err != nil || len(items) != 0 || version != 0 {
		t.Errorf("Roster(%q) = %s, %d, %v; want nothing, 0, nil", username, describe(items), version, err)
	}
	if msgs, err := s.OfflineMessages(ctx, username); err != nil || len(msgs) != 0 {
		t.Errorf("OfflineMessages(%q) = %d messages, %v; want none", username, len(msgs), err)
	}
	if n, err := s.CountOffline(ctx, username); err != nil || n != 0 {
		t.Errorf("CountOffline(%q) = %d, %v; want 0", username, n, err)
	}
	if l, err := s.Blocklist(ctx, username); err != nil || len(l) != 0 {
		t.Errorf("Blocklist(%q) = %q, %v; want empty", username, l, err)
	}
	if _, err := s.VCard(ctx, username); !errorsIsNotFound(err) {
		t.Errorf("VCard(%q): %v, want ErrNotFound", username, err)
	}
	names, err := s.ListUsers(ctx)
	must(t, "ListUsers", err)
	wantStrings(t, "ListUsers", names, []string{"alice"})
}
