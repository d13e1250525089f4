package imtest

import (
	"strings"
	"sync"

	"parley/internal/store"
)

// Blobs is a store of one document per key in memory: what the fakes of
// store.VCards (by username) and store.PrivateXML (by user and key) keep.
type Blobs struct {
	mu sync.Mutex // guards m
	m  map[string][]byte
}

// NewBlobs holds the documents of m, which it takes over.
func NewBlobs(m map[string][]byte) *Blobs {
	if m == nil {
		m = make(map[string][]byte)
	}
	return &Blobs{m: m}
}

// Get returns key's document, or store.ErrNotFound.
func (b *Blobs) Get(key string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return v, nil
}

// Put stores v as key's document.
func (b *Blobs) Put(key string, v []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[key] = v
}

// Sizes returns the length of each document whose key starts with
// prefix, by the rest of its key.
func (b *Blobs) Sizes(prefix string) map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]int)
	for k, v := range b.m {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = len(v)
		}
	}
	return out
}
