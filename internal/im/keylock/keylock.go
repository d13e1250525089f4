// Package keylock serialises work per key (an account, a node) without a
// mutex per key: a fixed set of mutexes, one chosen by a seeded hash of
// the key. Memory does not grow with the keys; two keys seldom share a
// mutex, and when they do they only wait for each other.
package keylock

import (
	"hash/maphash"
	"sync"
)

// Locks is a fixed set of mutexes; make it with New.
type Locks struct {
	mu   []sync.Mutex
	seed maphash.Seed
}

// New returns a set of n mutexes (n > 0).
func New(n int) *Locks {
	return &Locks{mu: make([]sync.Mutex, n), seed: maphash.MakeSeed()}
}

// Lock locks key's mutex and returns it; the caller unlocks it.
func (l *Locks) Lock(key string) *sync.Mutex {
	mu := &l.mu[maphash.String(l.seed, key)%uint64(len(l.mu))]
	mu.Lock()
	return mu
}
