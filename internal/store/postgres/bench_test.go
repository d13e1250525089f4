package postgres

import (
	"sync/atomic"
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

// go test -run '^$' -bench StoreOffline ./internal/store/postgres
func BenchmarkStoreOffline(b *testing.B) {
	storetest.BenchStoreOffline(b, func(b *testing.B) (store.Store, *atomic.Int64) {
		s := openTest(b, Options{})
		return s, &s.commits
	})
}

func BenchmarkRoster(b *testing.B) { storetest.BenchRoster(b, openTest(b, Options{})) }
