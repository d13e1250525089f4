package sqlite

import (
	"sync/atomic"
	"testing"

	"parley/internal/store"
	"parley/internal/store/storetest"
)

// BenchmarkArchive: storetest.BenchArchive over an archive built with
// appends of maxAppend messages.
//
//	go test -run '^$' -bench 'Archive$' -benchtime 2000x ./internal/store/sqlite
func BenchmarkArchive(b *testing.B) {
	s := openTemp(b, Options{})
	storetest.BenchArchive(b, s, func(n int) *storetest.ArchiveCorpus {
		storetest.CreateArchiveOwners(b, s)
		c := storetest.NewArchiveCorpus(n)
		msgs := make([]store.ArchivedMessage, 0, maxAppend)
		for i := range n {
			msgs = append(msgs, c.Message(i))
			if len(msgs) == maxAppend || i == n-1 {
				if err := s.AppendArchive(b.Context(), msgs); err != nil {
					b.Fatal(err)
				}
				msgs = msgs[:0]
			}
		}
		return c
	})
}

// BenchmarkArchiveWrite measures durable archive appends of one message
// each (what routing does per copy) from many goroutines: group commit
// shares one fsync among everything queued.
//
//	go test -run '^$' -bench ArchiveWrite -benchtime 200000x ./internal/store/sqlite
func BenchmarkArchiveWrite(b *testing.B) {
	storetest.BenchArchiveWrite(b, func(b *testing.B) (store.Store, *atomic.Int64) {
		s := openTemp(b, Options{})
		return s, &s.commits
	})
}
