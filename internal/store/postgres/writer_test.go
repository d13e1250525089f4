package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"parley/internal/store"
	"parley/internal/store/storetest"
	"parley/internal/xmpptest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestGroupCommit: see storetest.GroupCommit.
func TestGroupCommit(t *testing.T) {
	s := openTest(t, Options{})
	storetest.GroupCommit(t, s, &s.commits)
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
	s := withUsers(t, openURL(t, dbURL, Options{}), "alice", "bob", "carol")
	ctx := t.Context()
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
	// Both wait in the writer's queue for the next batch.
	xmpptest.Eventually(t, 10*time.Second, func() error {
		if n := s.offline.Queued(); n < 2 {
			return fmt.Errorf("%d offline writes queued, want 2", n)
		}
		return nil
	})

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
	s := withUsers(t, openTest(t, Options{}), "alice")
	ctx := t.Context()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, putErr := s.PutRosterItem(ctx, "alice", store.RosterItem{JID: "bob@example.net", Subscription: store.SubNone})
	msgs := []store.ArchivedMessage{{Owner: "alice", ID: "1", Stanza: []byte("<message/>")}}
	for i, err := range []error{
		s.AppendArchive(ctx, msgs),
		<-s.QueueArchive(ctx, msgs),
		s.SyncArchive(ctx),
		s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte("<message/>")}),
		s.CreateUser(ctx, newUser("bob")),
		s.SetVCard(ctx, "alice", []byte("<vCard/>")),
		s.Block(ctx, "alice", []string{"eve@example.net"}),
		putErr,
	} {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%d: %v, want store.ErrClosed", i, err)
		}
	}
}

// holdWriters stages writers stuck in a commit: it locks alice's rows in
// users and archive_owners, which the offline and archive inserts must
// share-lock for their foreign keys, has one StoreOffline and one
// AppendArchive of hers block on them, and returns their outcomes and a
// function that releases the locks.
func holdWriters(t *testing.T, s *Store, dbURL string) (offline, archive chan error, release func()) {
	t.Helper()
	ctx := t.Context()
	admin := schemaPoolAt(t, dbURL)
	hold := begin(t, admin)
	if _, err := hold.Exec(ctx, `SELECT 1 FROM users, archive_owners
		WHERE username = 'alice' AND owner = 'alice' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	offline, archive = make(chan error, 1), make(chan error, 1)
	go func() {
		offline <- s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte("first")})
	}()
	go func() {
		archive <- s.AppendArchive(ctx, []store.ArchivedMessage{{Owner: "alice", ID: "first", Stanza: []byte("<message/>")}})
	}()
	waitForLockWaiters(t, admin, 2)
	return offline, archive, func() {
		if err := hold.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestQueueWhileCommitting: while the writers are busy committing, callers
// queue without waiting for them (QueueArchive returns at once), a
// SyncArchive waits for everything queued before it, and one goroutine's
// queued messages are archived in the order it queued them.
func TestQueueWhileCommitting(t *testing.T) {
	dbURL := newSchema(t)
	s := withUsers(t, openURL(t, dbURL, Options{}), "alice")
	ctx := t.Context()
	offline, archive, release := holdWriters(t, s, dbURL)

	const n = 100
	queued := make(chan []<-chan error, 1)
	go func() {
		var dones []<-chan error
		for i := range n {
			m := store.ArchivedMessage{Owner: "alice", ID: fmt.Sprintf("m%03d", n-i), Stanza: []byte("<message/>")}
			dones = append(dones, s.QueueArchive(ctx, []store.ArchivedMessage{m}))
		}
		queued <- dones
	}()
	var dones []<-chan error
	select {
	case dones = <-queued:
	case <-time.After(10 * time.Second):
		t.Fatal("QueueArchive waited for the writer's commit in progress")
	}
	synced := make(chan error, 1)
	go func() { synced <- s.SyncArchive(ctx) }()
	time.Sleep(50 * time.Millisecond)
	for i, done := range dones {
		select {
		case err := <-done:
			t.Fatalf("queued message %d answered (%v) before the commit ahead of it", i, err)
		default:
		}
	}
	select {
	case err := <-synced:
		t.Fatalf("SyncArchive returned (%v) before the queued messages committed", err)
	default:
	}

	release()
	for _, c := range []chan error{offline, archive, synced} {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	for i, done := range dones {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("queued message %d: %v", i, err)
			}
		default:
			t.Fatalf("queued message %d not answered when SyncArchive returned", i)
		}
	}
	p, err := s.QueryArchive(ctx, "alice", store.ArchiveQuery{Limit: 2 * n})
	if err != nil || len(p.Messages) != n+1 {
		t.Fatalf("QueryArchive = %d messages, %v; want %d", len(p.Messages), err, n+1)
	}
	for i, m := range p.Messages[1:] {
		if want := fmt.Sprintf("m%03d", n-i); m.ID != want {
			t.Fatalf("message %d is %s, want %s (queue order)", i+1, m.ID, want)
		}
	}
}

// TestCloseDrainsQueues: Close commits and answers every request queued
// before it began, even with the writers busy; calls after it has begun
// get store.ErrClosed at once, without waiting for the drain.
func TestCloseDrainsQueues(t *testing.T) {
	dbURL := newSchema(t)
	s := withUsers(t, openURL(t, dbURL, Options{}), "alice")
	ctx := t.Context()
	offline, archive, release := holdWriters(t, s, dbURL)

	const n = 50
	var stored []chan error
	for i := range n {
		done := make(chan error, 1)
		stored = append(stored, done)
		go func() {
			done <- s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: fmt.Appendf(nil, "%d", i)})
		}()
	}
	var archived []<-chan error
	for i := range n {
		archived = append(archived, s.QueueArchive(ctx, []store.ArchivedMessage{{Owner: "alice", ID: fmt.Sprint(i), Stanza: []byte("<message/>")}}))
	}
	for deadline := time.Now().Add(10 * time.Second); s.offline.Queued() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d offline messages queued after 10s, want %d", s.offline.Queued(), n)
		}
		time.Sleep(time.Millisecond)
	}

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if s.closed() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Close did not begin within 10s")
		}
		time.Sleep(time.Millisecond)
	}
	late := []error{
		s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte("late")}),
		<-s.QueueArchive(ctx, []store.ArchivedMessage{{Owner: "alice", ID: "late", Stanza: []byte("<message/>")}}),
		s.AppendArchive(ctx, []store.ArchivedMessage{{Owner: "alice", ID: "late", Stanza: []byte("<message/>")}}),
		s.SyncArchive(ctx),
	}
	for i, err := range late {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("call %d after Close began: %v, want store.ErrClosed", i, err)
		}
	}
	select {
	case <-closed:
		t.Fatal("Close returned while requests were still queued behind a blocked commit")
	default:
	}

	release()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	// QueueArchive's channels are the writer's own: answered before Close
	// returns. The other calls run in goroutines that pass the answer on
	// after the writer gave it, so they may lag Close by a scheduling hop.
	for i, c := range archived {
		select {
		case err := <-c:
			if err != nil {
				t.Errorf("queued archive %d: %v", i, err)
			}
		default:
			t.Errorf("queued archive %d not answered when Close returned", i)
		}
	}
	for i, c := range append([]<-chan error{offline, archive}, chans(stored)...) {
		select {
		case err := <-c:
			if err != nil {
				t.Errorf("call %d: %v", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("call %d not answered 10s after Close returned", i)
		}
	}
	s = openURL(t, dbURL, Options{})
	if got, err := s.CountOffline(ctx, "alice"); err != nil || got != n+1 {
		t.Errorf("CountOffline after reopen = %d, %v; want %d", got, err, n+1)
	}
	if p, err := s.QueryArchive(ctx, "alice", store.ArchiveQuery{Count: true}); err != nil || p.Count != n+1 {
		t.Errorf("archived after reopen = %d, %v; want %d", p.Count, err, n+1)
	}
}

func chans(cs []chan error) []<-chan error {
	out := make([]<-chan error, len(cs))
	for i, c := range cs {
		out[i] = c
	}
	return out
}

// TestArchiveOwnerDeletedMidStatement: the archive's owner check (a
// statement trigger since migration 21, no longer a foreign key) waits for
// an owner's uncommitted deletion and then fails the statement, and the
// writer redoes the batch, where the owner is unknown. Rows inserted
// directly for an unknown owner are refused as a foreign key would.
func TestArchiveOwnerDeletedMidStatement(t *testing.T) {
	dbURL := newSchema(t)
	s := withUsers(t, openURL(t, dbURL, Options{}), "bob")
	ctx := t.Context()
	admin := schemaPoolAt(t, dbURL)
	deleteBob := begin(t, admin)
	if _, err := deleteBob.Exec(ctx, `DELETE FROM users WHERE username = 'bob'`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- s.AppendArchive(ctx, []store.ArchivedMessage{{Owner: "bob", ID: "1", Stanza: []byte("<message/>")}})
	}()
	waitForLockWaiters(t, admin, 1) // the writer's statement, on bob's row
	if err := deleteBob.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("AppendArchive for an owner deleted meanwhile: %v, want ErrNotFound", err)
	}
	if r := s.redone.Load(); r != 1 {
		t.Errorf("%d messages redone, want 1", r)
	}
	var n int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM archive`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d archived rows (%v), want 0", n, err)
	}
	_, err := admin.Exec(ctx, `INSERT INTO archive (owner, id, with_jid, stamp, stanza, body, words)
		VALUES ('nobody', '1', '', now(), '', '', '')`)
	if !isCode(err, foreignKeyViolation) {
		t.Fatalf("archive row of an unknown owner: %v, want a foreign key violation", err)
	}
}
