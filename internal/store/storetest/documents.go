package storetest

import (
	"context"
	"testing"

	"parley/internal/store"
)

var vcardCases = []scenario{
	{"none_is_ErrNotFound", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		_, err := s.VCard(ctx, "alice")
		wantErr(t, "VCard", err, store.ErrNotFound)
	}},
	{"set_get_replace", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		for _, v := range []string{`<vCard xmlns="vcard-temp"><FN>Alice</FN></vCard>`, `<vCard xmlns="vcard-temp"/>`} {
			must(t, "SetVCard", s.SetVCard(ctx, "alice", []byte(v)))
			got, err := s.VCard(ctx, "alice")
			must(t, "VCard", err)
			if string(got) != v {
				t.Fatalf("VCard = %s, want %s", got, v)
			}
		}
	}},
	{"kept_per_user", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		must(t, "SetVCard", s.SetVCard(ctx, "alice", []byte("<vCard>a</vCard>")))
		_, err := s.VCard(ctx, "bob")
		wantErr(t, "VCard(bob)", err, store.ErrNotFound)
		must(t, "SetVCard(bob)", s.SetVCard(ctx, "bob", []byte("<vCard>b</vCard>")))
		got, err := s.VCard(ctx, "alice")
		must(t, "VCard", err)
		if string(got) != "<vCard>a</vCard>" {
			t.Fatalf("alice's VCard = %s after bob set his", got)
		}
	}},
}

var privateCases = []scenario{
	{"none_is_ErrNotFound", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		_, err := s.PrivateXML(ctx, "alice", "storage storage:bookmarks")
		wantErr(t, "PrivateXML", err, store.ErrNotFound)
	}},
	{"keyed_per_user_and_key", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		set := []struct{ user, key, data string }{
			{"alice", "storage storage:bookmarks", "<storage xmlns='storage:bookmarks'>a</storage>"},
			{"alice", "storage storage:rosternotes", "<storage xmlns='storage:rosternotes'/>"},
			{"bob", "storage storage:bookmarks", "<storage xmlns='storage:bookmarks'>b</storage>"},
			{"alice", "storage storage:bookmarks", "<storage xmlns='storage:bookmarks'>a2</storage>"}, // replaces
		}
		for _, c := range set {
			must(t, "SetPrivateXML", s.SetPrivateXML(ctx, c.user, c.key, []byte(c.data)))
		}
		for i, want := range set[1:] {
			got, err := s.PrivateXML(ctx, want.user, want.key)
			must(t, "PrivateXML", err)
			if string(got) != want.data {
				t.Errorf("%d: PrivateXML(%q, %q) = %s, want %s", i, want.user, want.key, got, want.data)
			}
		}
		_, err := s.PrivateXML(ctx, "bob", "storage storage:rosternotes")
		wantErr(t, "PrivateXML(bob, rosternotes)", err, store.ErrNotFound)
		sizes, err := s.PrivateXMLSizes(ctx, "alice")
		must(t, "PrivateXMLSizes", err)
		if len(sizes) != 2 || sizes["storage storage:bookmarks"] != len(set[3].data) || sizes["storage storage:rosternotes"] != len(set[1].data) {
			t.Errorf("PrivateXMLSizes(alice) = %v", sizes)
		}
		if sizes, err := s.PrivateXMLSizes(ctx, "nobody"); err != nil || len(sizes) != 0 {
			t.Errorf("PrivateXMLSizes(nobody) = %v, %v", sizes, err)
		}
	}},
}

var blocklistCases = []scenario{
	{"empty", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		l, err := s.Blocklist(ctx, "alice")
		must(t, "Blocklist", err)
		wantStrings(t, "Blocklist", l, nil)
	}},
	{"block_is_idempotent_and_sorted", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		must(t, "Block", s.Block(ctx, "alice", []string{"spam@example.org", "example.com"}))
		must(t, "Block again", s.Block(ctx, "alice", []string{"spam@example.org", "eve@example.net/phone", "eve@example.net/phone"}))
		must(t, "Block nothing", s.Block(ctx, "alice", nil))
		l, err := s.Blocklist(ctx, "alice")
		must(t, "Blocklist", err)
		wantStrings(t, "Blocklist", l, []string{"eve@example.net/phone", "example.com", "spam@example.org"})
	}},
	{"unblock_some", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		must(t, "Block", s.Block(ctx, "alice", []string{"a@x", "b@x", "c@x"}))
		must(t, "Unblock", s.Unblock(ctx, "alice", []string{"b@x", "never@x"}))
		l, err := s.Blocklist(ctx, "alice")
		must(t, "Blocklist", err)
		wantStrings(t, "Blocklist", l, []string{"a@x", "c@x"})
	}},
	{"unblock_all_touches_only_that_user", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		must(t, "Block", s.Block(ctx, "alice", []string{"a@x", "b@x"}))
		must(t, "Block(bob)", s.Block(ctx, "bob", []string{"a@x"}))
		must(t, "Unblock all", s.Unblock(ctx, "alice", nil))
		l, err := s.Blocklist(ctx, "alice")
		must(t, "Blocklist", err)
		wantStrings(t, "Blocklist", l, nil)
		l, err = s.Blocklist(ctx, "bob")
		must(t, "Blocklist(bob)", err)
		wantStrings(t, "Blocklist(bob)", l, []string{"a@x"})
	}},
}
