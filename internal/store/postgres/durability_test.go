package postgres

import (
	"context"
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

// TestReopen: see storetest.Reopen.
func TestReopen(t *testing.T) {
	dbURL := newSchema(t)
	storetest.Reopen(t, openURL(t, dbURL, Options{}), func() store.Store { return openURL(t, dbURL, Options{}) })
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
	s := withUsers(t, openURL(t, dbURL+"&application_name=parley_dropped", Options{}), "alice")
	ctx := t.Context()
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
	// The writers stop however the test ends: left running after a
	// failure they would spin on a cancelled context until the binary
	// timed out.
	halt := sync.OnceFunc(func() {
		stop.Store(true)
		wg.Wait()
	})
	defer halt()
	// Five rounds, each cutting at least one connection: the pool
	// reconnects lazily, so a round waits until it has one to cut (on a
	// loaded machine that may take longer than the 50 ms between rounds).
	for range 5 {
		time.Sleep(50 * time.Millisecond)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var cut int
			err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE application_name = 'parley_dropped'`).Scan(&cut)
			if err != nil {
				t.Fatal(err)
			}
			if cut > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no store connection to terminate within 10s")
			}
		}
	}
	time.Sleep(50 * time.Millisecond)
	halt()
	if err := s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte("0")}); err != nil {
		t.Fatalf("StoreOffline after the server dropped connections: %v", err)
	}
	t.Logf("%d failed while connections dropped", failed.Load())
	storetest.CheckAcked(t, s, "alice", acked)
}
