package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"parley/internal/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestGroupCommit checks that concurrent writes share transactions: with
// one transaction per write the commit count would equal the write count.
func TestGroupCommit(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	if err := s.CreateUser(ctx, newUser("alice")); err != nil {
		t.Fatal(err)
	}
	before := s.commits.Load()
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
	commits := s.commits.Load() - before
	if n, err := s.CountOffline(ctx, "alice"); err != nil || n != goroutines*each {
		t.Fatalf("CountOffline = %d, %v; want %d", n, err, goroutines*each)
	}
	if commits > goroutines*each/2 {
		t.Fatalf("%d writes took %d commits; group commit is not batching", goroutines*each, commits)
	}
	t.Logf("%d writes in %d commits", goroutines*each, commits)
}

// TestBatchSurvivesAccountDeletedMidStatement covers the one way a batch
// statement can fail on a row: an account deleted after the statement
// checked that it exists but before its row was inserted. The batch is
// then redone message by message, and only the deleted account's message
// fails.
//
// The race is staged with row locks: carol's row is locked so that the
// writer's first batch (carol's message) waits in its foreign-key check
// while alice's and bob's messages queue behind it; bob is then deleted in
// a transaction left open, carol's lock is released, and the writer takes
// alice's and bob's messages as one batch, sees bob (his deletion is not
// committed) and waits on his row; committing the deletion then fails
// bob's foreign key.
func TestBatchSurvivesAccountDeletedMidStatement(t *testing.T) {
	dbURL := newSchema(t)
	s := openURL(t, dbURL, Options{})
	ctx := t.Context()
	for _, u := range []string{"alice", "bob", "carol"} {
		if err := s.CreateUser(ctx, newUser(u)); err != nil {
			t.Fatal(err)
		}
	}
	admin := schemaPoolAt(t, dbURL)
	holdCarol := begin(t, admin)
	if _, err := holdCarol.Exec(ctx, `SELECT 1 FROM users WHERE username = 'carol' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	results := map[string]chan error{}
	send := func(user string) {
		done := make(chan error, 1)
		results[user] = done
		go func() {
			done <- s.StoreOffline(ctx, user, store.OfflineMessage{Stanza: []byte("<message>" + user + "</message>")})
		}()
	}
	send("carol")
	waitForLockWaiters(t, admin, 1)
	before := s.commits.Load()
	send("alice")
	send("bob")
	time.Sleep(200 * time.Millisecond) // let both queue for the next batch

	deleteBob := begin(t, admin)
	if _, err := deleteBob.Exec(ctx, `DELETE FROM users WHERE username = 'bob'`); err != nil {
		t.Fatal(err)
	}
	if err := holdCarol.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-results["carol"]; err != nil {
		t.Fatalf("StoreOffline(carol): %v", err)
	}
	waitForLockWaiters(t, admin, 1) // the writer, on bob's row
	if err := deleteBob.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-results["alice"]; err != nil {
		t.Errorf("StoreOffline(alice): %v", err)
	}
	if err := <-results["bob"]; !errors.Is(err, store.ErrNotFound) {
		t.Errorf("StoreOffline(bob) = %v, want ErrNotFound", err)
	}
	// carol's batch, then alice's redone alone (bob's failed).
	if c, r := s.commits.Load()-before, s.redone.Load(); c != 1+1 || r != 2 {
		t.Errorf("%d commits, %d messages redone; want 2 commits (carol's batch, alice's message) and 2 redone (alice's and bob's batch)", c, r)
	}
	for user, want := range map[string]int{"alice": 1, "bob": 0, "carol": 1} {
		if n, err := s.CountOffline(ctx, user); err != nil || n != want {
			t.Errorf("CountOffline(%s) = %d, %v; want %d", user, n, err, want)
		}
	}
}

func begin(t *testing.T, pool *pgxpool.Pool) pgx.Tx {
	t.Helper()
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(context.Background()) }) //nolint:errcheck // no-op after Commit
	return tx
}

// waitForLockWaiters waits until n backends of this database wait for a
// lock.
func waitForLockWaiters(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		err := pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d backends wait for a lock after 10s, want %d", waiting, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestGivenUpBeforeTaken: a caller whose context has ended before the
// writer takes its message gets the context's error and stores nothing.
func TestGivenUpBeforeTaken(t *testing.T) {
	s := openTest(t, Options{})
	if err := s.CreateUser(t.Context(), newUser("alice")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 20 { // the writer may or may not take it first: both must hold
		if err := s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte("<message/>")}); !errors.Is(err, context.Canceled) {
			t.Fatalf("StoreOffline = %v, want context.Canceled", err)
		}
	}
	if n, err := s.CountOffline(t.Context(), "alice"); err != nil || n != 0 {
		t.Fatalf("CountOffline = %d, %v; want 0", n, err)
	}
}

func TestWritesAfterCloseAreErrClosed(t *testing.T) {
	s := openTest(t, Options{})
	ctx := t.Context()
	if err := s.CreateUser(ctx, newUser("alice")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, putErr := s.PutRosterItem(ctx, "alice", store.RosterItem{JID: "bob@example.net", Subscription: store.SubNone})
	for i, err := range []error{
		s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte("<message/>")}),
		s.CreateUser(ctx, newUser("bob")),
		s.SetVCard(ctx, "alice", []byte("<vCard/>")),
		s.Block(ctx, "alice", []string{"eve@example.net"}),
		putErr,
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%d: %v, want ErrClosed", i, err)
		}
	}
}

func TestObserve(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	s := openTest(t, Options{Observe: func(op string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if d <= 0 {
			t.Errorf("%s took %v", op, d)
		}
		seen[op]++
	}})
	ctx := t.Context()
	if err := s.CreateUser(ctx, newUser("alice")); err != nil {
		t.Fatal(err)
	}
	if err := s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte("<message/>")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Roster(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, op := range []string{"CreateUser", "StoreOffline", "Roster"} {
		if seen[op] != 1 {
			t.Errorf("%s observed %d times, want 1", op, seen[op])
		}
	}
}
