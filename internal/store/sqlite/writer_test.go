package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

func newUser(name string) store.User {
	k := store.ScramKeys{Salt: []byte("s"), Iterations: 4096, StoredKey: []byte("k"), ServerKey: []byte("v")}
	return store.User{Username: name, SHA1: k, SHA256: k}
}

// TestGroupCommit: see storetest.GroupCommit.
func TestGroupCommit(t *testing.T) {
	s := openTemp(t, Options{})
	storetest.GroupCommit(t, s, &s.commits)
}

// TestFailedWriteUndoesOnlyItself puts a write that changes the database
// and then fails into the same batch as writes that succeed.
func TestFailedWriteUndoesOnlyItself(t *testing.T) {
	s := openTemp(t, Options{})
	ctx := t.Context()
	errBoom := errors.New("boom")

	// Hold the writer so the next writes queue up and form one batch.
	release := make(chan struct{})
	held := make(chan error, 1)
	go func() { held <- s.write(ctx, func(*sql.Tx) error { <-release; return nil }) }()

	var wg sync.WaitGroup
	results := make([]error, 5)
	for i := range results {
		wg.Go(func() {
			results[i] = s.write(ctx, func(tx *sql.Tx) error {
				if _, err := tx.Exec(`INSERT INTO users (username, sha1_salt, sha1_iter, sha1_stored, sha1_server,
					sha256_salt, sha256_iter, sha256_stored, sha256_server, created)
					VALUES (?, x'', 0, x'', x'', x'', 0, x'', x'', 0)`, fmt.Sprint("u", i)); err != nil {
					return err
				}
				if i == 2 {
					return errBoom // after its insert: the savepoint must undo it
				}
				return nil
			})
		})
	}
	time.Sleep(50 * time.Millisecond) // let the five block on the writer
	before := s.commits.Load()
	close(release)
	wg.Wait()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for i, err := range results {
		if want := error(nil); i == 2 {
			want = errBoom
			if !errors.Is(err, want) {
				t.Errorf("write %d: %v, want %v", i, err, want)
			}
		} else if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	names, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(names) != "[u0 u1 u3 u4]" {
		t.Fatalf("users = %v, want [u0 u1 u3 u4]", names)
	}
	if c := s.commits.Load() - before; c > 2 {
		t.Logf("the writes took %d commits; the failure was not tested inside a shared batch", c)
	}
}

func TestCancelledContextWritesNothing(t *testing.T) {
	s := openTemp(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.CreateUser(ctx, newUser("alice")); !errors.Is(err, context.Canceled) {
		t.Fatalf("CreateUser with cancelled context: %v, want context.Canceled", err)
	}
	if _, err := s.GetUser(t.Context(), "alice"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser: %v, want ErrNotFound", err)
	}
}

// TestCloseStopsWriter checks that Close ends every goroutine Open started
// and that the store then refuses writes instead of hanging.
func TestCloseStopsWriter(t *testing.T) {
	base := runtime.NumGoroutine()
	s, err := Open(t.Context(), t.TempDir()+"/parley.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(t.Context(), newUser("alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUser(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	if n := runtime.NumGoroutine(); n <= base {
		t.Fatalf("%d goroutines while open, %d before: the writer is not running", n, base)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.CreateUser(t.Context(), newUser("bob")); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("CreateUser after Close: %v, want store.ErrClosed", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCloseDuringWrites closes while writers are busy: every write must
// either commit or report store.ErrClosed, and none may hang.
func TestCloseDuringWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := s.CreateUser(ctx, newUser("alice")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex // guards acked
	acked := 0
	for range 20 {
		wg.Go(func() {
			for {
				err := s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte("<message/>")})
				if errors.Is(err, store.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked++
				mu.Unlock()
			}
		})
	}
	time.Sleep(30 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	// Everything acknowledged before Close is there after reopening.
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	n, err := s2.CountOffline(ctx, "alice")
	if err != nil || n != acked {
		t.Fatalf("CountOffline after reopen = %d, %v; want %d acknowledged", n, err, acked)
	}
}

func TestReadersCannotWrite(t *testing.T) {
	s := openTemp(t, Options{})
	if _, err := s.r.ExecContext(t.Context(), `DELETE FROM users`); err == nil {
		t.Fatal("DELETE on the read pool succeeded; readers must be read-only")
	}
}

func TestPragmas(t *testing.T) {
	s := openTemp(t, Options{})
	ctx := t.Context()
	tests := []struct {
		db    *sql.DB
		query string
		want  string
	}{
		0: {s.r, "PRAGMA journal_mode", "wal"},
		1: {s.w, "PRAGMA journal_mode", "wal"},
		2: {s.w, "PRAGMA synchronous", "2"}, // FULL
		3: {s.w, "PRAGMA foreign_keys", "1"},
		4: {s.w, "PRAGMA user_version", fmt.Sprint(len(migrations))},
		5: {s.w, "PRAGMA wal_autocheckpoint", fmt.Sprint(walLimit)},
		6: {s.checkpoints.db, "PRAGMA synchronous", "2"},
	}
	for i, tc := range tests {
		var got string
		if err := tc.db.QueryRowContext(ctx, tc.query).Scan(&got); err != nil {
			t.Fatalf("%d: %s: %v", i, tc.query, err)
		}
		if got != tc.want {
			t.Errorf("%d: %s = %s, want %s", i, tc.query, got, tc.want)
		}
	}
}

// TestMergedInsertsAnswerEachCaller: archive rows of concurrent callers
// share one INSERT; when one caller's row is a duplicate or belongs to no
// account, only that caller fails and every other row is stored.
func TestMergedInsertsAnswerEachCaller(t *testing.T) {
	s := openTemp(t, Options{})
	ctx := context.Background()
	if err := s.CreateUser(ctx, newUser("alice")); err != nil {
		t.Fatal(err)
	}
	msg := func(owner, id string) []store.ArchivedMessage {
		return []store.ArchivedMessage{{Owner: owner, ID: id, With: "bob@example.com", Stanza: []byte("<message/>"), Text: id}}
	}
	if err := s.AppendArchive(ctx, msg("alice", "dup")); err != nil {
		t.Fatal(err)
	}
	for round := range 20 { // batches form by timing: try many times
		var wg sync.WaitGroup
		errs := make([]error, 40)
		for i := range errs {
			wg.Go(func() {
				switch i {
				case 7:
					errs[i] = s.AppendArchive(ctx, msg("alice", "dup"))
				case 13:
					errs[i] = s.AppendArchive(ctx, msg("nobody", fmt.Sprint("x", round)))
				default:
					errs[i] = s.AppendArchive(ctx, msg("alice", fmt.Sprint(round, "-", i)))
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			switch i {
			case 7:
				if !errors.Is(err, store.ErrExists) {
					t.Fatalf("round %d: duplicate id: %v, want ErrExists", round, err)
				}
			case 13:
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("round %d: unknown owner: %v, want ErrNotFound", round, err)
				}
			default:
				if err != nil {
					t.Fatalf("round %d: caller %d: %v", round, i, err)
				}
			}
		}
	}
	page, err := s.QueryArchive(ctx, "alice", store.ArchiveQuery{Count: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + 20*38; page.Count != want {
		t.Fatalf("stored %d messages, want %d", page.Count, want)
	}
}

// TestCheckpointsOffTheWriter: once the writer has committed
// checkpointPages pages, the checkpointer copies them into the database
// file, and the backstop keeps the WAL bounded.
func TestCheckpointsOffTheWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if err := s.CreateUser(ctx, newUser("alice")); err != nil {
		t.Fatal(err)
	}
	text := strings.Repeat("words for the index ", 50)
	sent := 0
	for s.checkpoints.done.Load() == 0 {
		if sent > 100*checkpointPages {
			t.Fatalf("no checkpoint after %d messages", sent)
		}
		msgs := make([]store.ArchivedMessage, 100)
		for i := range msgs {
			msgs[i] = store.ArchivedMessage{Owner: "alice", ID: fmt.Sprint(sent), Stanza: []byte(text), Text: text}
			sent++
		}
		if err := s.AppendArchive(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	var busy, frames, copied int
	if err := s.checkpoints.db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		t.Fatal(err)
	}
	if frames > walLimit+checkpointPages {
		t.Errorf("WAL of %d frames, backstop at %d", frames, walLimit)
	}
}
