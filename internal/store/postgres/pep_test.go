package postgres

import (
	"fmt"
	"sync"
	"testing"

	"parley/internal/store"
)

// TestPEPConcurrentPublish publishes to one node from many goroutines at
// once, as several nodes of a cluster may: every publish must succeed
// (two of one id must not collide on the unique index) and the node must
// end with exactly MaxItems items, the newest by publishing order.
func TestPEPConcurrentPublish(t *testing.T) {
	s := withUsers(t, openTest(t, Options{}), "alice")
	ctx := t.Context()
	const keep, writers, each = 3, 8, 20
	if err := s.PutPEPNode(ctx, "alice", store.PEPNode{Node: "n", AccessModel: store.AccessOpen, PersistItems: true, MaxItems: keep}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				// Half the ids are shared by every writer.
				id := fmt.Sprintf("%d-%d", w, i)
				if i%2 == 0 {
					id = fmt.Sprint(i)
				}
				if err := s.PublishPEPItem(ctx, "alice", "n", store.PEPItem{ID: id, Payload: []byte("<x/>")}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	items, err := s.PEPItems(ctx, "alice", "n", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != keep {
		t.Fatalf("%d items after concurrent publishing, want %d: %+v", len(items), keep, items)
	}
}
