package sqlite

import (
	"sync/atomic"
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

// go test -run '^$' -bench StoreOffline ./internal/store/sqlite
func BenchmarkStoreOffline(b *testing.B) {
	storetest.BenchStoreOffline(b, func(b *testing.B) (store.Store, *atomic.Int64) {
		s := openTemp(b, Options{})
		return s, &s.commits
	})
}

func BenchmarkRoster(b *testing.B) { storetest.BenchRoster(b, openTemp(b, Options{})) }
