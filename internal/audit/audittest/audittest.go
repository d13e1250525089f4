// Package audittest keeps audit records in memory, for the tests of
// packages that write them.
package audittest

import (
	"slices"
	"sync"

	"parley/internal/audit"
)

// Recorder is an in-memory audit log: it takes records as *audit.Log
// does (Emit) and gives them back in order. Safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	records []audit.Record
}

// Emit keeps rec.
func (r *Recorder) Emit(rec audit.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
}

// Records returns the records kept so far.
func (r *Recorder) Records() []audit.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.records)
}

// Take returns the records kept so far and forgets them.
func (r *Recorder) Take() []audit.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.records
	r.records = nil
	return out
}
