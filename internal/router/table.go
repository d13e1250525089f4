package router

import (
	"hash/maphash"
	"sync"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Session is what the router needs of a bound client session. Interfaces
// live with their consumer: c2s implements this.
type Session interface {
	// JID is the bound full JID; it never changes.
	JID() jid.JID
	// Send queues one serialised stanza for writing and never blocks on
	// the network. An error means the session is gone or too far behind.
	Send(b []byte) error
	// Terminate ends the session with a stream error, e.g. <conflict/>
	// when another session binds its resource (RFC 6120 §7.7.2.2). It
	// must not block.
	Terminate(e *stanza.StreamError)
}

// Tracked is implemented by sessions that can tell when a stanza has
// reached their client, so that what is sent from storage (offline
// messages) is deleted only then.
type Tracked interface {
	// SendTracked is Send that later calls done exactly once: true when
	// the client has the stanza (acknowledged under XEP-0198, else
	// written to the connection), false when the session ended first.
	// done is not called when SendTracked returns an error; it must not
	// block.
	SendTracked(b []byte, done func(delivered bool)) error
}

// Resource is a snapshot of one bound session of a user.
type Resource struct {
	Session    Session
	Available  bool   // has sent available presence and not unavailable
	Priority   int8   // from the last available presence
	Interested bool   // has requested the roster (RFC 6121 §2.1.6)
	Presence   []byte // last available presence, for probes; nil otherwise
}

// LastPresence is the session's last available presence, or nil. It
// parses a copy: Parse keeps views of its input, and Presence is shared
// with every reader of the table.
func (r Resource) LastPresence() *stanza.Stanza {
	if !r.Available || r.Presence == nil {
		return nil
	}
	el, err := xmlstream.ParseIn(append([]byte(nil), r.Presence...), xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
	if err != nil {
		return nil
	}
	st, err := stanza.Parse(el)
	if err != nil || st.Kind != stanza.Presence {
		return nil
	}
	return st
}

// entry is a bound session with its presence state; guarded by its shard.
type entry = Resource

// user holds the sessions of one bare JID.
type user struct {
	resources map[string]*entry // by resourcepart
}

const shardCount = 64

// table is the session table, sharded by bare JID so routing takes no
// global lock.
type table struct {
	seed   maphash.Seed
	shards [shardCount]shard
}

type shard struct {
	mu    sync.RWMutex // guards users and every entry in it
	users map[string]*user
}

func newTable() *table {
	t := &table{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].users = make(map[string]*user)
	}
	return t
}

func (t *table) shard(bare string) *shard {
	return &t.shards[maphash.String(t.seed, bare)%shardCount]
}

// bind adds s, returning the session it replaces, if any, with its state.
func (t *table) bind(s Session) (old Session, last Resource) {
	j := s.JID()
	bare := j.Bare().String()
	sh := t.shard(bare)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	u := sh.users[bare]
	if u == nil {
		u = &user{resources: make(map[string]*entry, 1)}
		sh.users[bare] = u
	}
	if e := u.resources[j.Resource()]; e != nil {
		old, last = e.Session, *e
	}
	u.resources[j.Resource()] = &entry{Session: s}
	return old, last
}

// unbind removes s (only s: a replacement bound under the same resource
// stays). It reports the state the session had.
func (t *table) unbind(s Session) (Resource, bool) {
	j := s.JID()
	bare := j.Bare().String()
	sh := t.shard(bare)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.entryOf(j)
	if e == nil || e.Session != s {
		return Resource{}, false
	}
	u := sh.users[bare]
	delete(u.resources, j.Resource())
	if len(u.resources) == 0 {
		delete(sh.users, bare)
	}
	return *e, true
}

// entryOf returns the entry of a full JID; the caller holds the shard lock.
func (sh *shard) entryOf(full jid.JID) *entry {
	u := sh.users[full.Bare().String()]
	if u == nil {
		return nil
	}
	return u.resources[full.Resource()]
}

// update changes the state of a bound session under the shard lock.
func (t *table) update(full jid.JID, fn func(e *entry)) bool {
	sh := t.shard(full.Bare().String())
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.entryOf(full)
	if e != nil {
		fn(e)
	}
	return e != nil
}

// readUser calls fn with a user's sessions under the shard's read lock;
// u is nil when the user has none. fn must not keep u.
func (t *table) readUser(bare jid.JID, fn func(u *user)) {
	b := bare.Bare().String()
	sh := t.shard(b)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	fn(sh.users[b])
}

// resources returns snapshots of a user's sessions.
func (t *table) resources(bare jid.JID) (out []Resource) {
	t.readUser(bare, func(u *user) {
		if u == nil {
			return
		}
		out = make([]Resource, 0, len(u.resources))
		for _, e := range u.resources {
			out = append(out, *e)
		}
	})
	return out
}

// attended reports whether a user has a session with a client connected
// (one that does not hibernate, Hibernating), without copying the
// user's sessions: it runs for every message delivered while someone
// subscribes to OnUnattended.
func (t *table) attended(bare jid.JID) (yes bool) {
	t.readUser(bare, func(u *user) {
		if u == nil {
			return
		}
		for _, e := range u.resources {
			if h, ok := e.Session.(Hibernating); !ok || !h.Hibernated() {
				yes = true
				return
			}
		}
	})
	return yes
}

// session returns the session bound to a full JID.
func (t *table) session(full jid.JID) (Resource, bool) {
	sh := t.shard(full.Bare().String())
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if e := sh.entryOf(full); e != nil {
		return *e, true
	}
	return Resource{}, false
}

// users returns the bare JIDs that have a bound session.
func (t *table) users() []jid.JID {
	var out []jid.JID
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		for _, u := range sh.users {
			for _, e := range u.resources {
				out = append(out, e.Session.JID().Bare())
				break
			}
		}
		sh.mu.RUnlock()
	}
	return out
}

// count returns the number of bound sessions.
func (t *table) count() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		for _, u := range sh.users {
			n += len(u.resources)
		}
		sh.mu.RUnlock()
	}
	return n
}
