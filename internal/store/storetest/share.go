package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"parley/internal/store"
)

// ArchiveShare checks that archive queries are held to their share of the
// read connections (issue 10: four huge searches made every login wait
// for the pool). share is the backend's share of archive queries, others
// the number of read connections every other read shares, and hold takes
// one read connection of the backend and returns what gives it back. The
// check takes every place of the share as running queries would, each
// holding a connection, and every other connection but one. Then a
// login's read (GetUser) must still be answered, while one more archive
// query waits for a place until its context ends.
func ArchiveShare(t *testing.T, s store.Store, share *store.Share, others int, hold func(t *testing.T) (release func())) {
	ctx := t.Context()
	create(t, ctx, s, "alice")
	var held []func()
	for range share.Size() {
		if err := share.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		held = append(held, share.Release, hold(t))
	}
	for range others - 1 {
		held = append(held, hold(t))
	}
	release := sync.OnceFunc(func() {
		for _, r := range held {
			r()
		}
	})
	defer release()

	// Generous: it fails only if the read waits behind the archive
	// queries, which would hold it forever.
	lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := s.GetUser(lctx, "alice"); err != nil {
		t.Fatalf("GetUser while archive queries hold their share: %v", err)
	}
	qctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := s.QueryArchive(qctx, "alice", store.ArchiveQuery{Limit: 10})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("QueryArchive beyond the share = %v, want it to wait (context.DeadlineExceeded)", err)
	}
	release()
	if _, err := s.QueryArchive(ctx, "alice", store.ArchiveQuery{Limit: 10}); err != nil {
		t.Fatalf("QueryArchive after the share is free: %v", err)
	}
}
