package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

// TestReopen writes one of everything, closes the pool, opens the
// database again and reads it all back.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	dbURL := newSchema(t)
	s := openURL(t, dbURL, Options{})
	u := newUser("alice")
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

	s = openURL(t, dbURL, Options{})
	got, err := s.GetUser(ctx, "alice")
	if err != nil || !got.Created.Equal(u.Created) || got.SHA256.Iterations != 4096 {
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

// childEnv names the variable that makes the test binary a writer child
// (see TestKilledProcessKeepsAcknowledgedWrites); TestMain checks it
// first so that a child creates no database of its own.
const childEnv = "PARLEY_POSTGRES_CHILD"

// TestKilledProcessKeepsAcknowledgedWrites: see storetest.KillWriter.
func TestKilledProcessKeepsAcknowledgedWrites(t *testing.T) {
	dbURL := newSchema(t)
	s := openURL(t, dbURL, Options{})
	if err := s.CreateUser(t.Context(), newUser("alice")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dbURL)
	acked := storetest.KillWriter(t, cmd)
	storetest.CheckAcked(t, openURL(t, dbURL, Options{}), "alice", acked)
}

// childWriter is the child of TestKilledProcessKeepsAcknowledgedWrites.
func childWriter(dbURL string) {
	s, err := Open(context.Background(), dbURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	storetest.ChildWriter(s)
}

// TestServerDropsConnections terminates the store's server connections
// while 16 goroutines write: calls may fail while the pool reconnects, but
// every acknowledged message is stored, and writes succeed again after.
func TestServerDropsConnections(t *testing.T) {
	dbURL := newSchema(t)
	admin := schemaPoolAt(t, dbURL)
	// The store's connections carry a name, so that only they are cut.
	s := openURL(t, dbURL+"&application_name=parley_dropped", Options{})
	ctx := t.Context()
	if err := s.CreateUser(ctx, newUser("alice")); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		acked   = map[int64]bool{}
		failed  atomic.Int64
		stop    atomic.Bool
		wg      sync.WaitGroup
		counter atomic.Int64
	)
	for range 16 {
		wg.Go(func() {
			for !stop.Load() {
				n := counter.Add(1)
				err := s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: strconv.AppendInt(nil, n, 10)})
				if err != nil {
					failed.Add(1)
					continue
				}
				mu.Lock()
				acked[n] = true
				mu.Unlock()
			}
		})
	}
	for range 5 {
		time.Sleep(50 * time.Millisecond)
		var cut int
		err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = 'parley_dropped'`).Scan(&cut)
		if err != nil || cut == 0 {
			t.Fatalf("terminated %d connections: %v", cut, err)
		}
	}
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if err := s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte("0")}); err != nil {
		t.Fatalf("StoreOffline after the server dropped connections: %v", err)
	}
	t.Logf("%d failed while connections dropped", failed.Load())
	storetest.CheckAcked(t, s, "alice", acked)
}
