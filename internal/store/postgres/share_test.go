package postgres

import (
	"testing"

	"parley/internal/store/storetest"

	"github.com/jackc/pgx/v5/pgxpool"
)

func TestArchiveShare(t *testing.T) {
	needDB(t)
	s := openTest(t, Options{})
	storetest.ArchiveShare(t, s, func(t *testing.T) func() {
		var conns []*pgxpool.Conn
		hold := func() {
			c, err := s.pool.Acquire(t.Context())
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
		for range int(s.pool.Config().MaxConns) - s.archiveShare.Size() - 1 {
			hold()
		}
		return func() {
			for _, c := range conns {
				c.Release()
			}
			for range s.archiveShare.Size() {
				s.archiveShare.Release()
			}
		}
	})
}
