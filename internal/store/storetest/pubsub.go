package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"parley/internal/store"
)

// PubSub is the suite of the publish-subscribe conformance cases (XEP-0060
// storage).
var PubSub = Suite{pubsubCases, []string{"alice", "bob"}}

const service = "pubsub.example.com"

func psIDs(t *testing.T, ctx context.Context, s store.Store, svc, node string, ids []string, max int) []string {
	t.Helper()
	items, err := s.PubSubItems(ctx, svc, node, ids, max)
	must(t, "PubSubItems", err)
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func psPublish(t *testing.T, ctx context.Context, s store.Store, svc, node string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		must(t, "PublishPubSubItem "+id, s.PublishPubSubItem(ctx, svc, node,
			store.PubSubItem{ID: id, Publisher: "alice@example.com", Payload: []byte("<p xmlns='x'>" + id + "</p>")}))
	}
}

var pubsubCases = []scenario{
	{"node round trip, listing and unknown owner", func(t *testing.T, ctx context.Context, s store.Store) {
		must(t, "Put", s.PutPubSubNode(ctx, service, store.PubSubNode{Node: "b", MaxItems: 3, Config: []byte(`{"a":1}`)}))
		must(t, "Put", s.PutPubSubNode(ctx, service, store.PubSubNode{Node: "a", Owner: "alice", MaxItems: 0}))
		n, err := s.PubSubNode(ctx, service, "b")
		must(t, "PubSubNode", err)
		if n.Node != "b" || n.Owner != "" || n.MaxItems != 3 || string(n.Config) != `{"a":1}` {
			t.Errorf("node = %+v", n)
		}
		ns, err := s.PubSubNodes(ctx, service)
		must(t, "PubSubNodes", err)
		if len(ns) != 2 || ns[0].Node != "a" || ns[0].Owner != "alice" || ns[0].MaxItems != 1 || ns[1].Node != "b" {
			t.Errorf("nodes = %+v", ns)
		}
		_, err = s.PubSubNode(ctx, service, "c")
		wantErr(t, "unknown node", err, store.ErrNotFound)
		_, err = s.PubSubNode(ctx, "alice@example.com", "a")
		wantErr(t, "other service", err, store.ErrNotFound)
		err = s.PutPubSubNode(ctx, service, store.PubSubNode{Node: "x", Owner: "nobody"})
		wantErr(t, "unknown owner", err, store.ErrNotFound)
	}},
	{"items: order, replace, trim, by id, newest, sizes", func(t *testing.T, ctx context.Context, s store.Store) {
		must(t, "Put", s.PutPubSubNode(ctx, service, store.PubSubNode{Node: "n", MaxItems: 3}))
		psPublish(t, ctx, s, service, "n", "1", "2", "3", "2", "4")
		if got := psIDs(t, ctx, s, service, "n", nil, 0); !slices.Equal(got, []string{"3", "2", "4"}) {
			t.Errorf("items = %v", got)
		}
		if got := psIDs(t, ctx, s, service, "n", nil, 2); !slices.Equal(got, []string{"2", "4"}) {
			t.Errorf("newest 2 = %v", got)
		}
		if got := psIDs(t, ctx, s, service, "n", []string{"4", "3", "9"}, 0); !slices.Equal(got, []string{"3", "4"}) {
			t.Errorf("by id = %v", got)
		}
		items, err := s.PubSubItems(ctx, service, "n", []string{"4"}, 0)
		must(t, "PubSubItems", err)
		if len(items) != 1 || items[0].Publisher != "alice@example.com" || string(items[0].Payload) != "<p xmlns='x'>4</p>" || items[0].Updated.IsZero() {
			t.Errorf("item = %+v", items)
		}
		sizes, err := s.PubSubItemSizes(ctx, service, "n")
		must(t, "PubSubItemSizes", err)
		if len(sizes) != 3 || sizes[2] != (store.PEPItemSize{ID: "4", Bytes: len("<p xmlns='x'>4</p>")}) {
			t.Errorf("sizes = %+v", sizes)
		}
		must(t, "Put", s.PutPubSubNode(ctx, service, store.PubSubNode{Node: "n", MaxItems: 1}))
		if got := psIDs(t, ctx, s, service, "n", nil, 0); !slices.Equal(got, []string{"4"}) {
			t.Errorf("after reconfiguring to 1 = %v", got)
		}
		wantErr(t, "publish to unknown node", s.PublishPubSubItem(ctx, service, "x", store.PubSubItem{ID: "1"}), store.ErrNotFound)
		_, err = s.PubSubItems(ctx, service, "x", nil, 0)
		wantErr(t, "items of unknown node", err, store.ErrNotFound)
		_, err = s.PubSubItemSizes(ctx, service, "x")
		wantErr(t, "sizes of unknown node", err, store.ErrNotFound)
	}},
	{"retract and purge", func(t *testing.T, ctx context.Context, s store.Store) {
		must(t, "Put", s.PutPubSubNode(ctx, service, store.PubSubNode{Node: "n", MaxItems: 10}))
		psPublish(t, ctx, s, service, "n", "1", "2", "3")
		must(t, "Retract", s.RetractPubSubItem(ctx, service, "n", "2"))
		wantErr(t, "retract again", s.RetractPubSubItem(ctx, service, "n", "2"), store.ErrNotFound)
		if got := psIDs(t, ctx, s, service, "n", nil, 0); !slices.Equal(got, []string{"1", "3"}) {
			t.Errorf("after retract = %v", got)
		}
		must(t, "Purge", s.PurgePubSubNode(ctx, service, "n"))
		if got := psIDs(t, ctx, s, service, "n", nil, 0); len(got) != 0 {
			t.Errorf("after purge = %v", got)
		}
		wantErr(t, "purge unknown", s.PurgePubSubNode(ctx, service, "x"), store.ErrNotFound)
	}},
	{"affiliations", func(t *testing.T, ctx context.Context, s store.Store) {
		must(t, "Put", s.PutPubSubNode(ctx, service, store.PubSubNode{Node: "a"}))
		must(t, "Put", s.PutPubSubNode(ctx, service, store.PubSubNode{Node: "b"}))
		set := func(node, j, aff string) {
			t.Helper()
			must(t, "SetPubSubAffiliation", s.SetPubSubAffiliation(ctx, service, node, store.PubSubAffiliation{JID: j, Affiliation: aff}))
		}
		set("a", "alice@example.com", store.AffiliationOwner)
		set("a", "bob@example.com", store.AffiliationPublisher)
		set("a", "bob@example.com", store.AffiliationMember)
		set("b", "carol@example.com", store.AffiliationOutcast)
		set("b", "dave@example.com", store.AffiliationNone) // absent: nothing to remove
		got, err := s.PubSubAffiliations(ctx, service, "a")
		must(t, "PubSubAffiliations", err)
		want := []store.PubSubAffiliation{{Node: "a", JID: "alice@example.com", Affiliation: "owner"}, {Node: "a", JID: "bob@example.com", Affiliation: "member"}}
		if !slices.Equal(got, want) {
			t.Errorf("affiliations of a = %+v", got)
		}
		set("a", "bob@example.com", store.AffiliationNone)
		all, err := s.PubSubAffiliations(ctx, service, "")
		must(t, "PubSubAffiliations", err)
		want = []store.PubSubAffiliation{{Node: "a", JID: "alice@example.com", Affiliation: "owner"}, {Node: "b", JID: "carol@example.com", Affiliation: "outcast"}}
		if !slices.Equal(all, want) {
			t.Errorf("affiliations of the service = %+v", all)
		}
		err = s.SetPubSubAffiliation(ctx, service, "x", store.PubSubAffiliation{JID: "a@b", Affiliation: "owner"})
		wantErr(t, "affiliation with unknown node", err, store.ErrNotFound)
	}},
	{"subscriptions", func(t *testing.T, ctx context.Context, s store.Store) {
		must(t, "Put", s.PutPubSubNode(ctx, service, store.PubSubNode{Node: "a"}))
		put := func(sub store.PubSubSubscription) {
			t.Helper()
			must(t, "PutPubSubSubscription", s.PutPubSubSubscription(ctx, service, "a", sub))
		}
		put(store.PubSubSubscription{JID: "bob@example.com", SubID: "1", State: store.SubscriptionPending})
		put(store.PubSubSubscription{JID: "bob@example.com/phone", SubID: "2", State: store.SubscriptionSubscribed, Options: []byte(`{}`)})
		put(store.PubSubSubscription{JID: "bob@example.com", SubID: "1", State: store.SubscriptionSubscribed})
		got, err := s.PubSubSubscriptions(ctx, service, "a")
		must(t, "PubSubSubscriptions", err)
		if len(got) != 2 || got[0].JID != "bob@example.com" || got[0].State != "subscribed" || got[0].Node != "a" ||
			got[1].SubID != "2" || string(got[1].Options) != `{}` {
			t.Errorf("subscriptions = %+v", got)
		}
		must(t, "Delete", s.DeletePubSubSubscription(ctx, service, "a", "bob@example.com", "1"))
		wantErr(t, "delete again", s.DeletePubSubSubscription(ctx, service, "a", "bob@example.com", "1"), store.ErrNotFound)
		all, err := s.PubSubSubscriptions(ctx, service, "")
		must(t, "PubSubSubscriptions", err)
		if len(all) != 1 || all[0].SubID != "2" {
			t.Errorf("service's subscriptions = %+v", all)
		}
		err = s.PutPubSubSubscription(ctx, service, "x", store.PubSubSubscription{JID: "a@b", SubID: "1", State: "subscribed"})
		wantErr(t, "subscribe to unknown node", err, store.ErrNotFound)
	}},
	{"a node goes with everything it holds; an owned node with its account", func(t *testing.T, ctx context.Context, s store.Store) {
		const pep = "alice@example.com"
		must(t, "Put", s.PutPubSubNode(ctx, pep, store.PubSubNode{Node: "a", Owner: "alice", MaxItems: 5}))
		must(t, "Put", s.PutPubSubNode(ctx, service, store.PubSubNode{Node: "a", MaxItems: 5}))
		for _, svc := range []string{pep, service} {
			psPublish(t, ctx, s, svc, "a", "1")
			must(t, "aff", s.SetPubSubAffiliation(ctx, svc, "a", store.PubSubAffiliation{JID: "bob@example.com", Affiliation: "member"}))
			must(t, "sub", s.PutPubSubSubscription(ctx, svc, "a", store.PubSubSubscription{JID: "bob@example.com", SubID: "1", State: "subscribed"}))
		}
		must(t, "DeleteUser", s.DeleteUser(ctx, "alice"))
		if _, err := s.PubSubNode(ctx, pep, "a"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("alice's node after her account went: %v", err)
		}
		if got := psIDs(t, ctx, s, service, "a", nil, 0); !slices.Equal(got, []string{"1"}) {
			t.Errorf("service node's items after alice went = %v", got)
		}
		must(t, "Delete", s.DeletePubSubNode(ctx, service, "a"))
		wantErr(t, "delete again", s.DeletePubSubNode(ctx, service, "a"), store.ErrNotFound)
		// Made again, it holds nothing of before.
		must(t, "Put", s.PutPubSubNode(ctx, service, store.PubSubNode{Node: "a", MaxItems: 5}))
		for _, svc := range []string{pep, service} {
			affs, err := s.PubSubAffiliations(ctx, svc, "")
			must(t, "affs", err)
			subs, err := s.PubSubSubscriptions(ctx, svc, "")
			must(t, "subs", err)
			if len(affs) != 0 || len(subs) != 0 {
				t.Errorf("%s after delete: affiliations %+v, subscriptions %+v", svc, affs, subs)
			}
		}
		if got := psIDs(t, ctx, s, service, "a", nil, 0); len(got) != 0 {
			t.Errorf("items of a node made again = %v", got)
		}
	}},
	{"a JID forgotten at every service", func(t *testing.T, ctx context.Context, s store.Store) {
		for _, svc := range []string{"alice@example.com", service} {
			must(t, "Put", s.PutPubSubNode(ctx, svc, store.PubSubNode{Node: "n"}))
			for _, j := range []string{"bob@example.com", "bob@example.com/phone", "bob@example.community", "bobby@example.com"} {
				must(t, "sub", s.PutPubSubSubscription(ctx, svc, "n", store.PubSubSubscription{JID: j, SubID: "1", State: "subscribed"}))
			}
			must(t, "aff", s.SetPubSubAffiliation(ctx, svc, "n", store.PubSubAffiliation{JID: "bob@example.com", Affiliation: "member"}))
		}
		must(t, "Put", s.PutPubSubNode(ctx, service, store.PubSubNode{Node: "his"}))
		must(t, "owner", s.SetPubSubAffiliation(ctx, service, "his", store.PubSubAffiliation{JID: "bob@example.com", Affiliation: "owner"}))
		must(t, "ForgetPubSubJID", s.ForgetPubSubJID(ctx, "bob@example.com"))
		for _, svc := range []string{"alice@example.com", service} {
			subs, err := s.PubSubSubscriptions(ctx, svc, "n")
			must(t, "subs", err)
			var left []string
			for _, x := range subs {
				left = append(left, x.JID)
			}
			if !slices.Equal(left, []string{"bob@example.community", "bobby@example.com"}) {
				t.Errorf("%s: subscriptions left %v", svc, left)
			}
			affs, err := s.PubSubAffiliations(ctx, svc, "n")
			must(t, "affs", err)
			if len(affs) != 0 {
				t.Errorf("%s: affiliations left %+v", svc, affs)
			}
		}
		affs, err := s.PubSubAffiliations(ctx, service, "his")
		must(t, "affs", err)
		if len(affs) != 1 || affs[0].Affiliation != "owner" {
			t.Errorf("an ownership was forgotten: %+v", affs)
		}
	}},
	{"bytes owned at a service", func(t *testing.T, ctx context.Context, s store.Store) {
		for _, n := range []string{"a", "b", "c"} {
			must(t, "Put", s.PutPubSubNode(ctx, service, store.PubSubNode{Node: n, MaxItems: 10}))
		}
		must(t, "own a", s.SetPubSubAffiliation(ctx, service, "a", store.PubSubAffiliation{JID: "bob@example.com", Affiliation: "owner"}))
		must(t, "own b", s.SetPubSubAffiliation(ctx, service, "b", store.PubSubAffiliation{JID: "bob@example.com", Affiliation: "owner"}))
		must(t, "member c", s.SetPubSubAffiliation(ctx, service, "c", store.PubSubAffiliation{JID: "bob@example.com", Affiliation: "member"}))
		for _, n := range []string{"a", "b", "c"} {
			must(t, "publish", s.PublishPubSubItem(ctx, service, n, store.PubSubItem{ID: "1", Payload: []byte("12345")}))
		}
		must(t, "publish", s.PublishPubSubItem(ctx, service, "a", store.PubSubItem{ID: "2", Payload: []byte("123")}))
		got, err := s.PubSubOwnedBytes(ctx, service, "bob@example.com")
		must(t, "PubSubOwnedBytes", err)
		if got != 13 {
			t.Errorf("owned bytes %d, want 13", got)
		}
		if got, err := s.PubSubOwnedBytes(ctx, service, "carol@example.com"); err != nil || got != 0 {
			t.Errorf("nobody's bytes %d %v", got, err)
		}
	}},
}
