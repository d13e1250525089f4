package sqlite

import (
	"runtime"
	"testing"

	"parley/internal/store/storetest"
)

func TestArchiveShare(t *testing.T) {
	s := openTemp(t, Options{ArchiveQueries: 2})
	storetest.ArchiveShare(t, s, s.archiveShare, max(4, runtime.GOMAXPROCS(0)), func(t *testing.T) func() {
		c, err := s.r.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return func() { c.Close() }
	})
}
