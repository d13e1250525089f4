package sqlite

import (
	"database/sql"
	"runtime"
	"testing"

	"parley/internal/store/storetest"
)

func TestArchiveShare(t *testing.T) {
	s := openTemp(t, Options{ArchiveQueries: 2})
	storetest.ArchiveShare(t, s, func(t *testing.T) func() {
		var conns []*sql.Conn
		hold := func() {
			c, err := s.r.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		for range s.archiveShare.Size() {
			if err := s.archiveShare.Acquire(t.Context()); err != nil {
				t.Fatal(err)
			}
			hold()
		}
		for range max(4, runtime.GOMAXPROCS(0)) - 1 {
			hold()
		}
		return func() {
			for _, c := range conns {
				c.Close()
			}
			for range s.archiveShare.Size() {
				s.archiveShare.Release()
			}
		}
	})
}
