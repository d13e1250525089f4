package blocking

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/store"
)

// DefaultMaxCached bounds how many users' lists are held in memory.
// Inbound checks load the list of any local username a stanza is sent to,
// existing or not, so the cache must not grow with what peers send.
const DefaultMaxCached = 1 << 16

// List is a block list as a set of normalised JID strings: one user's
// (XEP-0191) or the server's (internal/im/spam).
type List map[string]struct{}

// NewList holds js.
func NewList(js []jid.JID) List {
	l := make(List, len(js))
	for _, j := range js {
		l[j.String()] = struct{}{}
	}
	return l
}

// cache holds users' lists, loaded lazily.
//
// A loader reads the store without the lock and inserts its result only if
// no write or eviction happened meanwhile (epoch unchanged): a write
// commits to the store and then drops the entry under the lock, so no load
// that started before the write can put the old list back.
type cache struct {
	store store.Blocklists
	max   int

	mu    sync.Mutex // guards lists and epoch
	lists map[string]List
	epoch uint64
}

func newCache(st store.Blocklists, max int) *cache {
	defaults.Positive(&max, DefaultMaxCached)
	return &cache{store: st, max: max, lists: make(map[string]List)}
}

// get returns the user's list; callers must not modify it.
func (c *cache) get(ctx context.Context, user string) (List, error) {
	c.mu.Lock()
	l, ok := c.lists[user]
	epoch := c.epoch
	c.mu.Unlock()
	if ok {
		return l, nil
	}
	jids, err := c.store.Blocklist(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("blocking: load list of %s: %w", user, err)
	}
	l = make(List, len(jids))
	for _, j := range jids {
		l[j] = struct{}{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.lists[user]; ok {
		return cur, nil
	}
	if c.epoch != epoch {
		return l, nil // a write raced with the load: use it once, keep nothing
	}
	if len(c.lists) >= c.max {
		for k := range c.lists { // map order is random: evict one at random
			delete(c.lists, k)
			break
		}
		c.epoch++
	}
	c.lists[user] = l
	return l, nil
}

// invalidate drops the user's cached list after a store write.
func (c *cache) invalidate(user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.lists, user)
	c.epoch++
}

// Matches reports whether j is blocked by l, by the rules of XEP-0191 §6
// (after XEP-0016): the full JID, the bare JID, or the domain, which also
// covers its subdomains. A "domain/resource" item matches only that exact
// address, which is j itself when j has no localpart.
func (l List) Matches(j jid.JID) bool {
	if len(l) == 0 || j.IsZero() {
		return false
	}
	if _, ok := l[j.String()]; ok {
		return true
	}
	if _, ok := l[j.Bare().String()]; ok {
		return true
	}
	for d := j.Domain(); ; {
		if _, ok := l[d]; ok {
			return true
		}
		dot := strings.IndexByte(d, '.')
		if dot < 0 {
			return false
		}
		d = d[dot+1:]
	}
}
