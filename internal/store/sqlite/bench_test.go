package sqlite

import (
	"sync/atomic"
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

// go test -run '^$' -bench Store/StoreOffline ./internal/store/sqlite
func BenchmarkStore(b *testing.B) {
	storetest.BenchStore(b, func(b *testing.B) (store.Store, *atomic.Int64) {
		s := openTemp(b, Options{})
		return s, &s.commits
	})
}
