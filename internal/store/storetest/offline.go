package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"parley/internal/store"
)

func msg(body string, stamp time.Time) store.OfflineMessage {
	return store.OfflineMessage{Stamp: stamp, Stanza: []byte("<message><body>" + body + "</body></message>")}
}

// storeAll stores msgs for username in order.
func storeAll(t *testing.T, ctx context.Context, s store.Store, username string, msgs ...store.OfflineMessage) {
	t.Helper()
	for _, m := range msgs {
		must(t, "StoreOffline", s.StoreOffline(ctx, username, m))
	}
}

// wantOffline checks a user's messages (stanza and stamp, in order, with
// ascending IDs) and count, and returns the IDs.
func wantOffline(t *testing.T, ctx context.Context, s store.Store, username string, want ...store.OfflineMessage) []int64 {
	t.Helper()
	got, err := s.OfflineMessages(ctx, username)
	must(t, "OfflineMessages", err)
	if len(got) != len(want) {
		t.Fatalf("OfflineMessages(%q) has %d messages, want %d", username, len(got), len(want))
	}
	ids := make([]int64, len(got))
	for i := range got {
		ids[i] = got[i].ID
		if string(got[i].Stanza) != string(want[i].Stanza) || !got[i].Stamp.Equal(want[i].Stamp) {
			t.Errorf("message %d = %s at %v, want %s at %v", i, got[i].Stanza, got[i].Stamp, want[i].Stanza, want[i].Stamp)
		}
		if i > 0 && ids[i] <= ids[i-1] {
			t.Errorf("IDs not ascending: %v", ids)
		}
	}
	n, err := s.CountOffline(ctx, username)
	must(t, "CountOffline", err)
	if n != len(want) {
		t.Errorf("CountOffline(%q) = %d, want %d", username, n, len(want))
	}
	var bytes int64
	for _, m := range want {
		bytes += int64(len(m.Stanza))
	}
	un, ub, err := s.OfflineUsage(ctx, username)
	must(t, "OfflineUsage", err)
	if un != len(want) || ub != bytes {
		t.Errorf("OfflineUsage(%q) = %d messages, %d bytes; want %d, %d", username, un, ub, len(want), bytes)
	}
	return ids
}

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 678901000, time.UTC)

var offlineCases = []scenario{
	{"none_stored", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		wantOffline(t, ctx, s, "alice")
	}},
	{"arrival_order_with_stamps", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		// Stamps deliberately out of order: arrival, not stamp, orders.
		m := []store.OfflineMessage{msg("1", t0.Add(time.Hour)), msg("2", t0), msg("3", t0.Add(time.Microsecond))}
		storeAll(t, ctx, s, "alice", m...)
		wantOffline(t, ctx, s, "alice", m...)
	}},
	{"zero_stamp_means_now", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		before := time.Now()
		storeAll(t, ctx, s, "alice", msg("1", time.Time{}))
		after := time.Now()
		got, err := s.OfflineMessages(ctx, "alice")
		must(t, "OfflineMessages", err)
		if len(got) != 1 {
			t.Fatalf("got %d messages, want 1", len(got))
		}
		recent(t, "Stamp", got[0].Stamp, before, after)
	}},
	{"kept_per_user", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		storeAll(t, ctx, s, "alice", msg("a1", t0))
		storeAll(t, ctx, s, "bob", msg("b1", t0), msg("b2", t0))
		storeAll(t, ctx, s, "alice", msg("a2", t0))
		wantOffline(t, ctx, s, "alice", msg("a1", t0), msg("a2", t0))
		wantOffline(t, ctx, s, "bob", msg("b1", t0), msg("b2", t0))
	}},
	{"delete_by_ids", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		m := []store.OfflineMessage{msg("1", t0), msg("2", t0), msg("3", t0), msg("4", t0)}
		storeAll(t, ctx, s, "alice", m...)
		ids := wantOffline(t, ctx, s, "alice", m...)
		must(t, "DeleteOffline", s.DeleteOffline(ctx, "alice", []int64{ids[1], ids[3]}))
		wantOffline(t, ctx, s, "alice", m[0], m[2])
		must(t, "DeleteOffline(nil)", s.DeleteOffline(ctx, "alice", nil))
		must(t, "DeleteOffline(again)", s.DeleteOffline(ctx, "alice", []int64{ids[1], ids[3]}))
		wantOffline(t, ctx, s, "alice", m[0], m[2])
		must(t, "DeleteOffline(rest)", s.DeleteOffline(ctx, "alice", []int64{ids[0], ids[2]}))
		wantOffline(t, ctx, s, "alice")
	}},
	{"delete_ignores_ids_of_another_user", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		storeAll(t, ctx, s, "bob", msg("b", t0))
		ids := wantOffline(t, ctx, s, "bob", msg("b", t0))
		must(t, "DeleteOffline", s.DeleteOffline(ctx, "alice", ids))
		wantOffline(t, ctx, s, "bob", msg("b", t0))
	}},
	{"delete_many_ids_at_once", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		var m []store.OfflineMessage
		for i := range 300 {
			m = append(m, msg(fmt.Sprint(i), t0))
		}
		storeAll(t, ctx, s, "alice", m...)
		ids := wantOffline(t, ctx, s, "alice", m...)
		must(t, "DeleteOffline", s.DeleteOffline(ctx, "alice", ids[:299]))
		wantOffline(t, ctx, s, "alice", m[299])
	}},
	{"concurrent_stores_are_all_durable_counted_and_ordered", testConcurrentOffline},
}

// testConcurrentOffline stores from 50 goroutines at once, as group commit
// sees it in production: all must be stored exactly once, each
// goroutine's messages in the order it sent them, and the writes for an
// unknown user mixed into the same batches must fail alone.
func testConcurrentOffline(t *testing.T, ctx context.Context, s store.Store) {
	const goroutines, each = 50, 10
	users := []string{"u0", "u1", "u2", "u3", "u4"}
	create(t, ctx, s, users...)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if err := s.StoreOffline(ctx, users[g%len(users)], msg(fmt.Sprintf("%d-%d", g, i), t0)); err != nil {
					errs <- fmt.Errorf("goroutine %d message %d: %w", g, i, err)
				}
				if g%10 == 0 { // interleave doomed writes
					if err := s.StoreOffline(ctx, "ghost", msg("lost", t0)); !errorsIsNotFound(err) {
						errs <- fmt.Errorf("StoreOffline(ghost) = %v, want ErrNotFound", err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[int64]bool{}
	for _, u := range users {
		got, err := s.OfflineMessages(ctx, u)
		must(t, "OfflineMessages", err)
		want := goroutines / len(users) * each
		if len(got) != want {
			t.Errorf("%s has %d messages, want %d", u, len(got), want)
		}
		if n, err := s.CountOffline(ctx, u); err != nil || n != want {
			t.Errorf("CountOffline(%s) = %d, %v; want %d", u, n, err, want)
		}
		next := map[int]int{} // goroutine -> next message index expected
		for _, m := range got {
			if seen[m.ID] {
				t.Errorf("ID %d assigned twice", m.ID)
			}
			seen[m.ID] = true
			var g, i int
			if _, err := fmt.Sscanf(string(m.Stanza), "<message><body>%d-%d</body></message>", &g, &i); err != nil {
				t.Fatalf("unexpected stanza %s", m.Stanza)
			}
			if users[g%len(users)] != u || next[g] != i {
				t.Errorf("%s: got message %d-%d, want %d-%d", u, g, i, g, next[g])
			}
			next[g] = i + 1
		}
	}
	if len(seen) != goroutines*each {
		t.Errorf("%d distinct IDs, want %d", len(seen), goroutines*each)
	}
	if n, err := s.CountOffline(ctx, "ghost"); err != nil || n != 0 {
		t.Errorf("CountOffline(ghost) = %d, %v; want 0", n, err)
	}
}
