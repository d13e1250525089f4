package storetest

import (
	"context"
	"fmt"
	"testing"

	"parley/internal/store"
)

// PEP is the suite of the PEP conformance cases (XEP-0163 storage).
var PEP = Suite{pepCases, []string{"alice", "bob"}}

const bookmarks = "urn:xmpp:bookmarks:1"

func pepIDs(t *testing.T, ctx context.Context, s store.Store, owner, node string, ids []string, max int) []string {
	t.Helper()
	items, err := s.PEPItems(ctx, owner, node, ids, max)
	must(t, "PEPItems", err)
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func pepPublish(t *testing.T, ctx context.Context, s store.Store, owner, node string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		must(t, "PublishPEPItem "+id, s.PublishPEPItem(ctx, owner, node, store.PEPItem{ID: id, Payload: []byte("<p xmlns='x'>" + id + "</p>")}))
	}
}

var pepCases = []scenario{
	{"node round trip and unknown owner", func(t *testing.T, ctx context.Context, s store.Store) {
		n := store.PEPNode{Node: bookmarks, AccessModel: store.AccessWhitelist, PersistItems: true, MaxItems: 1000}
		must(t, "PutPEPNode", s.PutPEPNode(ctx, "alice", n))
		got, err := s.PEPNode(ctx, "alice", bookmarks)
		must(t, "PEPNode", err)
		if got != n {
			t.Fatalf("node %+v, want %+v", got, n)
		}
		wantErr(t, "PutPEPNode for nobody", s.PutPEPNode(ctx, "nobody", n), store.ErrNotFound)
		_, err = s.PEPNode(ctx, "bob", bookmarks)
		wantErr(t, "bob's node", err, store.ErrNotFound)
		must(t, "PutPEPNode b", s.PutPEPNode(ctx, "alice", store.PEPNode{Node: "a", AccessModel: store.AccessOpen, MaxItems: 0}))
		nodes, err := s.PEPNodes(ctx, "alice")
		must(t, "PEPNodes", err)
		if len(nodes) != 2 || nodes[0].Node != "a" || nodes[0].MaxItems != 1 || nodes[1].Node != bookmarks {
			t.Fatalf("nodes %+v (want sorted, max_items at least 1)", nodes)
		}
	}},
	{"items newest kept, republish moves to the end", func(t *testing.T, ctx context.Context, s store.Store) {
		must(t, "PutPEPNode", s.PutPEPNode(ctx, "alice", store.PEPNode{Node: "n", AccessModel: store.AccessPresence, PersistItems: true, MaxItems: 3}))
		pepPublish(t, ctx, s, "alice", "n", "1", "2", "3")
		wantStrings(t, "items", pepIDs(t, ctx, s, "alice", "n", nil, 0), []string{"1", "2", "3"})
		pepPublish(t, ctx, s, "alice", "n", "1", "4")
		wantStrings(t, "after republish and trim", pepIDs(t, ctx, s, "alice", "n", nil, 0), []string{"3", "1", "4"})
		wantStrings(t, "newest 2", pepIDs(t, ctx, s, "alice", "n", nil, 2), []string{"1", "4"})
		wantStrings(t, "by id", pepIDs(t, ctx, s, "alice", "n", []string{"4", "3", "zz"}, 0), []string{"3", "4"})
		items, err := s.PEPItems(ctx, "alice", "n", []string{"4"}, 0)
		must(t, "PEPItems", err)
		if string(items[0].Payload) != "<p xmlns='x'>4</p>" || items[0].Updated.IsZero() {
			t.Fatalf("item %+v", items[0])
		}
		// Reconfiguring to fewer items trims at once.
		must(t, "PutPEPNode", s.PutPEPNode(ctx, "alice", store.PEPNode{Node: "n", AccessModel: store.AccessPresence, PersistItems: true, MaxItems: 1}))
		wantStrings(t, "after max_items 1", pepIDs(t, ctx, s, "alice", "n", nil, 0), []string{"4"})
	}},
	{"retract, delete, unknown nodes", func(t *testing.T, ctx context.Context, s store.Store) {
		wantErr(t, "publish to no node", s.PublishPEPItem(ctx, "alice", "n", store.PEPItem{ID: "1"}), store.ErrNotFound)
		_, err := s.PEPItems(ctx, "alice", "n", nil, 0)
		wantErr(t, "items of no node", err, store.ErrNotFound)
		must(t, "PutPEPNode", s.PutPEPNode(ctx, "alice", store.PEPNode{Node: "n", AccessModel: store.AccessOpen, PersistItems: true, MaxItems: 10}))
		must(t, "PutPEPNode bob", s.PutPEPNode(ctx, "bob", store.PEPNode{Node: "n", AccessModel: store.AccessOpen, PersistItems: true, MaxItems: 10}))
		pepPublish(t, ctx, s, "alice", "n", "1", "2")
		pepPublish(t, ctx, s, "bob", "n", "1")
		must(t, "RetractPEPItem", s.RetractPEPItem(ctx, "alice", "n", "1"))
		wantErr(t, "retract again", s.RetractPEPItem(ctx, "alice", "n", "1"), store.ErrNotFound)
		wantErr(t, "retract from no node", s.RetractPEPItem(ctx, "alice", "nope", "2"), store.ErrNotFound)
		wantStrings(t, "alice's items", pepIDs(t, ctx, s, "alice", "n", nil, 0), []string{"2"})
		wantStrings(t, "bob's items", pepIDs(t, ctx, s, "bob", "n", nil, 0), []string{"1"})
		must(t, "DeletePEPNode", s.DeletePEPNode(ctx, "alice", "n"))
		wantErr(t, "delete again", s.DeletePEPNode(ctx, "alice", "n"), store.ErrNotFound)
		// A node created again starts empty.
		must(t, "PutPEPNode", s.PutPEPNode(ctx, "alice", store.PEPNode{Node: "n", AccessModel: store.AccessOpen, PersistItems: true, MaxItems: 10}))
		if got := pepIDs(t, ctx, s, "alice", "n", nil, 0); got != nil {
			t.Fatalf("items of a re-created node: %v", got)
		}
		// Deleting the account deletes its nodes.
		must(t, "DeleteUser", s.DeleteUser(ctx, "bob"))
		must(t, "CreateUser", s.CreateUser(ctx, user("bob")))
		if nodes, err := s.PEPNodes(ctx, "bob"); err != nil || len(nodes) != 0 {
			t.Fatalf("nodes of a re-created account: %v %v", nodes, err)
		}
	}},
	{"item sizes and usage", func(t *testing.T, ctx context.Context, s store.Store) {
		_, err := s.PEPItemSizes(ctx, "alice", "n")
		wantErr(t, "sizes of no node", err, store.ErrNotFound)
		if u, err := s.PEPUsage(ctx, "alice"); err != nil || u != (store.PEPUsage{}) {
			t.Fatalf("usage of nothing: %+v %v", u, err)
		}
		must(t, "PutPEPNode", s.PutPEPNode(ctx, "alice", store.PEPNode{Node: "n", AccessModel: store.AccessOpen, PersistItems: true, MaxItems: 10}))
		must(t, "PutPEPNode e", s.PutPEPNode(ctx, "alice", store.PEPNode{Node: "e", AccessModel: store.AccessOpen, PersistItems: true, MaxItems: 10}))
		must(t, "PutPEPNode bob", s.PutPEPNode(ctx, "bob", store.PEPNode{Node: "n", AccessModel: store.AccessOpen, PersistItems: true, MaxItems: 10}))
		if sizes, err := s.PEPItemSizes(ctx, "alice", "e"); err != nil || len(sizes) != 0 {
			t.Fatalf("sizes of an empty node: %v %v", sizes, err)
		}
		pepPublish(t, ctx, s, "alice", "n", "1", "22", "3")
		pepPublish(t, ctx, s, "alice", "n", "1") // republished: now the newest
		pepPublish(t, ctx, s, "bob", "n", "1")
		sizes, err := s.PEPItemSizes(ctx, "alice", "n")
		must(t, "PEPItemSizes", err)
		// Payloads are "<p xmlns='x'>" + id + "</p>": 17 bytes and the id.
		want := []store.PEPItemSize{{ID: "22", Bytes: 19}, {ID: "3", Bytes: 18}, {ID: "1", Bytes: 18}}
		if fmt.Sprint(sizes) != fmt.Sprint(want) {
			t.Fatalf("sizes %v, want %v", sizes, want)
		}
		u, err := s.PEPUsage(ctx, "alice")
		must(t, "PEPUsage", err)
		if u != (store.PEPUsage{Nodes: 2, Items: 3, Bytes: 55}) {
			t.Fatalf("usage %+v", u)
		}
	}},
}
