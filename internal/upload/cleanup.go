package upload

import (
	"context"
	"time"
)

// cleanup removes expired uploads (files, then rows) every CleanupEvery
// and when Forget asks, in batches of CleanupBatch so that a large backlog
// never becomes one huge transaction or holds the store for long. It runs
// until Close.
func (m *Module) cleanup() {
	defer m.stopped.Done()
	ctx := m.ctx
	// Once per start: what a crash left half-written. Files of PUTs
	// still running here are younger than PutTimeout (another node
	// sharing the directory included).
	if d, ok := m.o.Blobs.(interface {
		RemoveTemp(before time.Time) (int, error)
	}); ok {
		if n, err := d.RemoveTemp(time.Now().Add(-m.o.PutTimeout)); err != nil {
			m.o.Log.Error("upload: remove temporary files", "err", err)
		} else if n > 0 {
			m.o.Log.Info("upload: removed temporary files a crash left", "files", n)
		}
	}
	for {
		m.sweep(ctx)
		t := m.clock.NewTimer(m.o.CleanupEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-m.wake:
		case <-t.C():
		}
		t.Stop()
	}
}

// sweep removes every upload expired now, a batch at a time.
func (m *Module) sweep(ctx context.Context) {
	for ctx.Err() == nil {
		ids, err := m.o.Store.ExpiredUploads(ctx, m.clock.Now(), m.o.CleanupBatch)
		if err != nil {
			if ctx.Err() == nil {
				m.o.Log.Error("upload: cleanup", "err", err)
			}
			return
		}
		gone := ids[:0]
		for _, id := range ids {
			if err := m.o.Blobs.Delete(id); err != nil {
				// The row stays, so the next pass tries again.
				m.o.Log.Error("upload: remove file", "id", id, "err", err)
				continue
			}
			gone = append(gone, id)
		}
		if err := m.o.Store.DeleteUploads(ctx, gone); err != nil {
			if ctx.Err() == nil {
				m.o.Log.Error("upload: cleanup", "err", err)
			}
			return
		}
		if len(ids) < m.o.CleanupBatch || len(gone) == 0 {
			return
		}
	}
}
