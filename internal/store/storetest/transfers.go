package storetest

import (
	"context"
	"testing"

	"parley/internal/store"
)

// TransferStore is a backend that can be copied whole (parley migrate).
type TransferStore interface {
	store.Store
	store.Transfers
}

// RunTransfers runs the conformance cases of store.Transfers. open has the
// contract of Run's.
func RunTransfers(t *testing.T, open func(t *testing.T) TransferStore) {
	runCases(t, open, transferCases)
}

type transferCase = namedCase[TransferStore]

func wantVersions(t *testing.T, ctx context.Context, s TransferStore, want map[string]int64) {
	t.Helper()
	got, err := s.RosterVersions(ctx)
	must(t, "RosterVersions", err)
	if len(got) != len(want) {
		t.Fatalf("RosterVersions = %v, want %v", got, want)
	}
	for u, v := range want {
		if got[u] != v {
			t.Fatalf("RosterVersions = %v, want %v", got, want)
		}
	}
}

var transferCases = []transferCase{
	{"private xml keys", func(t *testing.T, ctx context.Context, s TransferStore) {
		create(t, ctx, s, "alice", "bob")
		keys, err := s.PrivateXMLKeys(ctx, "alice")
		must(t, "PrivateXMLKeys", err)
		wantStrings(t, "keys before any", keys, nil)
		for _, k := range []string{"storage storage:bookmarks", "Zed z", "a b", "ålf x"} {
			must(t, "SetPrivateXML", s.SetPrivateXML(ctx, "alice", k, []byte("<x/>")))
		}
		must(t, "SetPrivateXML", s.SetPrivateXML(ctx, "alice", "a b", []byte("<y/>")))
		must(t, "SetPrivateXML", s.SetPrivateXML(ctx, "bob", "bob's k", []byte("<x/>")))
		keys, err = s.PrivateXMLKeys(ctx, "alice")
		must(t, "PrivateXMLKeys", err)
		wantStrings(t, "keys", keys, []string{"Zed z", "a b", "storage storage:bookmarks", "ålf x"})
		must(t, "DeleteUser", s.DeleteUser(ctx, "alice"))
		keys, err = s.PrivateXMLKeys(ctx, "alice")
		must(t, "PrivateXMLKeys", err)
		wantStrings(t, "keys of a deleted account", keys, nil)
		keys, err = s.PrivateXMLKeys(ctx, "nobody")
		must(t, "PrivateXMLKeys", err)
		wantStrings(t, "keys of an unknown user", keys, nil)
	}},
	{"roster versions outlive accounts", func(t *testing.T, ctx context.Context, s TransferStore) {
		wantVersions(t, ctx, s, map[string]int64{})
		create(t, ctx, s, "alice", "bob", "carol")
		for range 3 {
			_, err := s.PutRosterItem(ctx, "alice", store.RosterItem{JID: "x@example.net", Subscription: store.SubNone})
			must(t, "PutRosterItem", err)
		}
		_, err := s.PutRosterItem(ctx, "bob", store.RosterItem{JID: "x@example.net", Subscription: store.SubNone})
		must(t, "PutRosterItem", err)
		must(t, "DeleteUser", s.DeleteUser(ctx, "bob"))
		wantVersions(t, ctx, s, map[string]int64{"alice": 3, "bob": 1})
	}},
	{"raise roster version", func(t *testing.T, ctx context.Context, s TransferStore) {
		create(t, ctx, s, "alice")
		must(t, "RaiseRosterVersion", s.RaiseRosterVersion(ctx, "alice", 40))
		must(t, "RaiseRosterVersion lower", s.RaiseRosterVersion(ctx, "alice", 7))
		_, v, err := s.Roster(ctx, "alice")
		must(t, "Roster", err)
		if v != 40 {
			t.Fatalf("version after raising to 40 then 7 = %d", v)
		}
		v, err = s.PutRosterItem(ctx, "alice", store.RosterItem{JID: "x@example.net", Subscription: store.SubNone})
		must(t, "PutRosterItem", err)
		if v != 41 {
			t.Fatalf("PutRosterItem after raising to 40 = %d", v)
		}
		// A deleted account's version can be carried over before the
		// account exists again.
		must(t, "RaiseRosterVersion of no account", s.RaiseRosterVersion(ctx, "gone", 9))
		wantVersions(t, ctx, s, map[string]int64{"alice": 41, "gone": 9})
		create(t, ctx, s, "gone")
		v, err = s.PutRosterItem(ctx, "gone", store.RosterItem{JID: "x@example.net", Subscription: store.SubNone})
		must(t, "PutRosterItem", err)
		if v != 10 {
			t.Fatalf("first change of a re-created account = version %d, want 10", v)
		}
	}},
}
