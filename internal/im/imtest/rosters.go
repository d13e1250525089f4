package imtest

import (
	"context"
	"slices"
	"strings"
	"sync"

	"parley/internal/store"
)

// Rosters is an in-memory store.Rosters with per-user versions.
type Rosters struct {
	mu       sync.Mutex // guards the fields below
	items    map[string]map[string]store.RosterItem
	versions map[string]int64
	// Loads counts Roster calls, to observe the cache.
	Loads int
}

var _ store.Rosters = (*Rosters)(nil)

// NewRosters returns an empty store.
func NewRosters() *Rosters {
	return &Rosters{items: make(map[string]map[string]store.RosterItem), versions: make(map[string]int64)}
}

// Roster implements store.Rosters.
func (r *Rosters) Roster(_ context.Context, user string) ([]store.RosterItem, int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Loads++
	var out []store.RosterItem
	for _, it := range r.items[user] {
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b store.RosterItem) int { return strings.Compare(a.JID, b.JID) })
	return out, r.versions[user], nil
}

// RosterItem implements store.Rosters.
func (r *Rosters) RosterItem(_ context.Context, user, contact string) (store.RosterItem, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	it, ok := r.items[user][contact]
	if !ok {
		return store.RosterItem{}, store.ErrNotFound
	}
	return it, nil
}

// PutRosterItem implements store.Rosters.
func (r *Rosters) PutRosterItem(_ context.Context, user string, it store.RosterItem) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.items[user] == nil {
		r.items[user] = make(map[string]store.RosterItem)
	}
	it.Groups = slices.Clone(it.Groups)
	r.items[user][it.JID] = it
	r.versions[user]++
	return r.versions[user], nil
}

// DeleteRosterItem implements store.Rosters.
func (r *Rosters) DeleteRosterItem(_ context.Context, user, contact string) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.items[user][contact]; !ok {
		return 0, store.ErrNotFound
	}
	delete(r.items[user], contact)
	r.versions[user]++
	return r.versions[user], nil
}

// Get returns a stored item straight from the store.
func (r *Rosters) Get(user, contact string) (store.RosterItem, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	it, ok := r.items[user][contact]
	return it, ok
}
