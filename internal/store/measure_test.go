package store_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"parley/internal/store"
	"parley/internal/store/sqlite"
)

// TestMeasure: every operation through the decorator is reported once,
// failures too, with its method's name and a positive duration.
func TestMeasure(t *testing.T) {
	var mu sync.Mutex // guards seen
	seen := map[string]int{}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	s := store.Measure(st, func(op string, d time.Duration) {
		if d <= 0 {
			t.Errorf("%s observed with duration %v", op, d)
		}
		mu.Lock()
		seen[op]++
		mu.Unlock()
	})
	defer s.Close()
	ctx := t.Context()
	u := store.User{Username: "alice"}
	_ = s.CreateUser(ctx, u)
	_ = s.CreateUser(ctx, u) // failures are observed too
	_, _, _ = s.Roster(ctx, "alice")
	_ = s.StoreOffline(ctx, "alice", store.OfflineMessage{Stanza: []byte("<message/>")})
	<-s.QueueArchive(ctx, []store.ArchivedMessage{{Owner: "alice", ID: "1", Stanza: []byte("<message/>")}})
	_, _ = s.QueryArchive(ctx, "alice", store.ArchiveQuery{Limit: 1})
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"CreateUser": 2, "Roster": 1, "StoreOffline": 1, "QueryArchive": 1}
	if len(seen) != len(want) {
		t.Fatalf("observed %v, want %v", seen, want)
	}
	for op, n := range want {
		if seen[op] != n {
			t.Fatalf("observed %v, want %v", seen, want)
		}
	}
}
