package sqlite

import (
	"testing"

	"parley/internal/store/storetest"
)

// BenchmarkArchive: storetest.BenchArchive over an archive built with
// appends of maxAppend messages.
//
//	go test -run '^$' -bench 'Archive$' -benchtime 2000x ./internal/store/sqlite
func BenchmarkArchive(b *testing.B) {
	s := openTemp(b, Options{})
	storetest.BenchArchive(b, s, storetest.AppendCorpus(b, s, maxAppend))
}

// BenchmarkArchiveWrite measures durable archive appends of one message
// each (what routing does per copy) from many goroutines: group commit
// shares one fsync among everything queued.
//
//	go test -run '^$' -bench ArchiveWrite -benchtime 200000x ./internal/store/sqlite
func BenchmarkArchiveWrite(b *testing.B) {
	storetest.BenchArchiveWrite(b, openBench)
}
