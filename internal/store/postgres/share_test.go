package postgres

import (
	"testing"

	"parley/internal/store/storetest"
)

func TestArchiveShare(t *testing.T) {
	needDB(t)
	s := openTest(t, Options{})
	others := int(s.pool.Config().MaxConns) - s.archiveShare.Size()
	storetest.ArchiveShare(t, s, s.archiveShare, others, func(t *testing.T) func() {
		c, err := s.pool.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return c.Release
	})
}
