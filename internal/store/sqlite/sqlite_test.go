package sqlite

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

// openTemp opens a new store in the test's temporary directory and closes
// it when the test ends (Close is idempotent, so the suite may close it
// first).
func openTemp(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := OpenWith(context.Background(), filepath.Join(t.TempDir(), "parley.db"), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openStore opens a new store with the default options (openTemp): the
// open of every storetest suite.
func openStore(t *testing.T) store.Store { return openTemp(t, Options{}) }

func TestConformance(t *testing.T) {
	storetest.Run(t, openStore)
}

// openBench opens a store for storetest's write benchmarks, with its
// commit counter.
func openBench(b *testing.B) (store.Store, *atomic.Int64) {
	s := openTemp(b, Options{})
	return s, &s.commits
}

// go test -run '^$' -bench Store/StoreOffline ./internal/store/sqlite
func BenchmarkStore(b *testing.B) {
	storetest.BenchStore(b, openBench)
}
