package storetest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/store"
)

// Reopen writes one of everything to s, closes it, and reads it all back
// from the store that reopen opens on the same database.
func Reopen(t *testing.T, s store.Store, reopen func() store.Store) {
	ctx := t.Context()
	u := user("alice")
	u.Created = time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC)
	item := store.RosterItem{JID: "bob@example.net", Groups: []string{"g"}, Subscription: store.SubTo, PendingInStanza: []byte("<presence/>")}
	steps := []error{
		s.CreateUser(ctx, u),
		s.StoreOffline(ctx, "alice", store.OfflineMessage{Stamp: u.Created, Stanza: []byte("<message/>")}),
		s.SetVCard(ctx, "alice", []byte("<vCard/>")),
		s.SetPrivateXML(ctx, "alice", "k ns", []byte("<k/>")),
		s.Block(ctx, "alice", []string{"eve@example.net"}),
	}
	_, err := s.PutRosterItem(ctx, "alice", item)
	if err := errors.Join(append(steps, err)...); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = reopen()
	defer s.Close()
	got, err := s.GetUser(ctx, "alice")
	if err != nil || !got.Created.Equal(u.Created) || got.SHA256.Iterations != u.SHA256.Iterations {
		t.Errorf("GetUser = %+v, %v", got, err)
	}
	items, version, err := s.Roster(ctx, "alice")
	if err != nil || version != 1 || len(items) != 1 || items[0].JID != item.JID || string(items[0].PendingInStanza) != "<presence/>" {
		t.Errorf("Roster = %+v, %d, %v", items, version, err)
	}
	msgs, err := s.OfflineMessages(ctx, "alice")
	if err != nil || len(msgs) != 1 || string(msgs[0].Stanza) != "<message/>" || !msgs[0].Stamp.Equal(u.Created) {
		t.Errorf("OfflineMessages = %+v, %v", msgs, err)
	}
	if v, err := s.VCard(ctx, "alice"); err != nil || string(v) != "<vCard/>" {
		t.Errorf("VCard = %s, %v", v, err)
	}
	if v, err := s.PrivateXML(ctx, "alice", "k ns"); err != nil || string(v) != "<k/>" {
		t.Errorf("PrivateXML = %s, %v", v, err)
	}
	if l, err := s.Blocklist(ctx, "alice"); err != nil || len(l) != 1 {
		t.Errorf("Blocklist = %q, %v", l, err)
	}
	// A new roster change continues the old count.
	if v, err := s.PutRosterItem(ctx, "alice", item); err != nil || v != 2 {
		t.Errorf("PutRosterItem after reopen = %d, %v; want 2", v, err)
	}
}

// GroupCommit checks that concurrent writes share transactions: with one
// transaction per write, commits (the backend's counter) would rise by
// the number of writes.
func GroupCommit(t *testing.T, s store.Store, commits *atomic.Int64) {
	ctx := t.Context()
	create(t, ctx, s, "alice")
	before := commits.Load()
	const goroutines, each = 50, 20
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if err := s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: fmt.Appendf(nil, "%d-%d", g, i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	n := commits.Load() - before
	if got, err := s.CountOffline(ctx, "alice"); err != nil || got != goroutines*each {
		t.Fatalf("CountOffline = %d, %v; want %d", got, err, goroutines*each)
	}
	if n > goroutines*each/2 {
		t.Fatalf("%d writes took %d commits; group commit is not batching", goroutines*each, n)
	}
	t.Logf("%d writes in %d commits", goroutines*each, n)
}
