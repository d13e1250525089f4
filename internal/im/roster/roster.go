package roster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
)

// Namespaces and stream features of RFC 6121.
const (
	NS = "jabber:iq:roster"
	// FeatureVersioning is the stream feature of roster versioning
	// (RFC 6121 §2.6.1); c2s advertises it.
	FeatureVersioning = "urn:xmpp:features:rosterver"
	// FeaturePreApproval is the stream feature of subscription
	// pre-approval (RFC 6121 §3.4.1); c2s advertises it.
	FeaturePreApproval = "urn:xmpp:features:pre-approval"
)

// Store is the storage the roster needs.
type Store = store.Rosters

// Router is what the roster needs of the router; *router.Router has it.
type Router interface {
	Resources(bare jid.JID) []router.Resource
	SetInterested(full jid.JID)
	DeliverTo(full jid.JID, st *stanza.Stanza) bool
	Send(ctx context.Context, st *stanza.Stanza)
}

// Limits bound what a client may store (RFC 6121 §2.3.3 leaves the values
// to the server). Zero fields take the defaults.
type Limits struct {
	MaxItems    int // items per user, hidden ones excluded; default 2000
	MaxNameLen  int // bytes of the 'name' attribute; default 1023
	MaxGroupLen int // bytes of one <group/>; default 1023
	MaxGroups   int // groups per item; default 64
}

func (l Limits) withDefaults() Limits {
	defaults.Positive(&l.MaxItems, 2000)
	defaults.Positive(&l.MaxNameLen, 1023)
	defaults.Positive(&l.MaxGroupLen, 1023)
	defaults.Positive(&l.MaxGroups, 64)
	return l
}

// Module serves jabber:iq:roster and caches rosters.
type Module struct {
	store     Store
	router    Router // set by Register
	limits    Limits
	sharedSrc Shared // nil: no shared groups (shared.go)

	mu    sync.Mutex        // guards users (the map, not the entries)
	users map[string]*entry // by username
}

// entry is one user's cached roster. Its mutex serialises every change to
// the user's roster, so a read-modify-write of the state machine is atomic
// and pushes leave in version order.
type entry struct {
	mu      sync.Mutex // guards the fields below
	loaded  bool
	dead    bool // evicted: look the user up again
	version int64
	items   map[string]store.RosterItem // by contact bare JID
}

// Options are the module's dependencies and limits.
type Options struct {
	Store  Store
	Limits Limits // zero fields take the defaults
	// Shared, if set, adds contacts the user does not store: shared
	// groups (a directory's), shown with subscription both (shared.go).
	Shared Shared
}

// New returns the roster module; install it with Register.
func New(o Options) *Module {
	return &Module{store: o.Store, limits: o.Limits.withDefaults(), sharedSrc: o.Shared, users: make(map[string]*entry)}
}

// Register serves jabber:iq:roster on r, which the module then uses to
// push changes to sessions.
func (m *Module) Register(r *router.Router) {
	m.router = r
	r.HandleIQ(NS, m.HandleIQ)
}

// lock returns the user's loaded cache entry, locked.
func (m *Module) lock(ctx context.Context, user jid.JID) (*entry, error) {
	name := user.Local()
	if name == "" {
		return nil, fmt.Errorf("roster: %s is not a user", user)
	}
	for {
		m.mu.Lock()
		e := m.users[name]
		if e == nil {
			e = &entry{}
			m.users[name] = e
		}
		m.mu.Unlock()
		e.mu.Lock()
		if e.dead {
			e.mu.Unlock()
			continue
		}
		if !e.loaded {
			items, ver, err := m.store.Roster(ctx, name)
			if err != nil {
				e.mu.Unlock()
				return nil, fmt.Errorf("roster: load %s: %w", user.Bare(), err)
			}
			e.items = make(map[string]store.RosterItem, len(items))
			for _, it := range items {
				e.items[it.JID] = it
			}
			e.version, e.loaded = ver, true
		}
		return e, nil
	}
}

// Forget drops a user's cached roster, e.g. when the last session ends.
// A change in progress completes first; the next read loads from the store.
func (m *Module) Forget(user jid.JID) {
	m.mu.Lock()
	e := m.users[user.Local()]
	m.mu.Unlock()
	if e == nil {
		return
	}
	e.mu.Lock()
	e.dead = true
	m.mu.Lock()
	if m.users[user.Local()] == e {
		delete(m.users, user.Local())
	}
	m.mu.Unlock()
	e.mu.Unlock()
}

// cached reports how many users have a cached roster (for tests/metrics).
func (m *Module) cached() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.users)
}

// Items returns all of a user's items, hidden ones too, sorted by JID,
// shared contacts included.
func (m *Module) Items(ctx context.Context, user jid.JID) ([]store.RosterItem, error) {
	e, err := m.lock(ctx, user)
	if err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	return m.merged(user, e), nil
}

// Item returns the user's item for a contact (any JID; its bare form is
// looked up), hidden or not.
func (m *Module) Item(ctx context.Context, user, contact jid.JID) (store.RosterItem, bool, error) {
	e, err := m.lock(ctx, user)
	if err != nil {
		return store.RosterItem{}, false, err
	}
	defer e.mu.Unlock()
	key := contact.Bare().String()
	it, ok := e.items[key]
	it.JID = key
	sc, shared := m.shared(user)[key]
	it, ok = overlay(clone(it), ok, sc, shared)
	if !ok {
		it = store.RosterItem{}
	}
	return it, ok, nil
}

// Version is the user's current roster version (RFC 6121 §2.6).
func (m *Module) Version(ctx context.Context, user jid.JID) (int64, error) {
	e, err := m.lock(ctx, user)
	if err != nil {
		return 0, err
	}
	defer e.mu.Unlock()
	return e.version, nil
}

// Audience returns the contacts that presence fan-out needs (RFC 6121
// §4.2.2, §4.3): subscribers are items with subscription from or both (they
// get the user's presence), publishers those with to or both (the user
// probes them). It copies no item, for the broadcast path.
func (m *Module) Audience(ctx context.Context, user jid.JID) (subscribers, publishers []jid.JID, err error) {
	e, err := m.lock(ctx, user)
	if err != nil {
		return nil, nil, err
	}
	defer e.mu.Unlock()
	for k, it := range e.items {
		from := it.Subscription == store.SubFrom || it.Subscription == store.SubBoth
		to := it.Subscription == store.SubTo || it.Subscription == store.SubBoth
		if !from && !to {
			continue
		}
		c, err := jid.Parse(k)
		if err != nil {
			continue // stored JIDs were validated on the way in
		}
		if from {
			subscribers = append(subscribers, c)
		}
		if to {
			publishers = append(publishers, c)
		}
	}
	// Shared contacts are subscribed both ways (shared.go).
	for k := range m.shared(user) {
		it := e.items[k]
		c, err := jid.Parse(k)
		if err != nil {
			continue
		}
		if it.Subscription != store.SubFrom && it.Subscription != store.SubBoth {
			subscribers = append(subscribers, c)
		}
		if it.Subscription != store.SubTo && it.Subscription != store.SubBoth {
			publishers = append(publishers, c)
		}
	}
	return subscribers, publishers, nil
}

func (e *entry) sorted() []store.RosterItem {
	out := make([]store.RosterItem, 0, len(e.items))
	for _, it := range e.items {
		out = append(out, clone(it))
	}
	slices.SortFunc(out, func(a, b store.RosterItem) int { return strings.Compare(a.JID, b.JID) })
	return out
}

// Change is the outcome of Modify.
type Change struct {
	Before, After   store.RosterItem
	Existed, Exists bool // whether the item was stored before and after
	Changed         bool // fn reported a change and it was stored
}

// Modify changes the user's item for contact atomically: fn receives the
// current item (or a new one with Subscription "none", not hidden, and
// exists=false) and reports whether it changed it. A changed item is
// stored, cached and pushed to the user's interested resources
// (RFC 6121 §2.1.6). An item left hidden without any subscription state
// is deleted instead, since it would hold nothing (store.RosterItem.Hidden).
//
// fn runs under the user's roster lock: it must not route stanzas.
func (m *Module) Modify(ctx context.Context, user, contact jid.JID, fn func(it *store.RosterItem, exists bool) bool) (Change, error) {
	return m.modify(ctx, user, contact, func(_ *entry, it *store.RosterItem, exists bool) (bool, error) {
		return fn(it, exists), nil
	})
}

// modify is Modify with access to the locked entry and an error return
// that aborts without storing.
func (m *Module) modify(ctx context.Context, user, contact jid.JID, fn func(e *entry, it *store.RosterItem, exists bool) (bool, error)) (Change, error) {
	e, err := m.lock(ctx, user)
	if err != nil {
		return Change{}, err
	}
	defer e.mu.Unlock()
	key := contact.Bare().String()
	before, existed := e.items[key]
	before = clone(before)
	it := clone(before)
	if !existed {
		it = store.RosterItem{JID: key, Subscription: store.SubNone}
	}
	ch := Change{Before: before, Existed: existed, After: before, Exists: existed}
	changed, err := fn(e, &it, existed)
	if err != nil || !changed {
		return ch, err
	}
	it.JID = key
	if it.Subscription == "" {
		it.Subscription = store.SubNone
	}
	if !it.PendingIn {
		it.PendingInStanza = nil
	}
	if empty(it) {
		if existed {
			if err := m.delete(ctx, user, e, key, before); err != nil {
				return ch, err
			}
		}
		ch.After, ch.Exists, ch.Changed = store.RosterItem{}, false, existed
		return ch, nil
	}
	if err := m.put(ctx, user, e, it, before, existed); err != nil {
		return ch, err
	}
	ch.After, ch.Exists, ch.Changed = clone(it), true, true
	return ch, nil
}

// Update stores an item as given (RFC 6121 §2.1.6: and pushes it).
func (m *Module) Update(ctx context.Context, user jid.JID, item store.RosterItem) error {
	c, err := jid.Parse(item.JID)
	if err != nil {
		return fmt.Errorf("roster: item %q: %w", item.JID, err)
	}
	_, err = m.Modify(ctx, user, c, func(it *store.RosterItem, _ bool) bool {
		*it = clone(item)
		return true
	})
	return err
}

// empty reports an item that is hidden and holds no state: nothing to keep.
func empty(it store.RosterItem) bool {
	return it.Hidden && !it.PendingIn && !it.PreApproved && !it.AskOut && it.Subscription == store.SubNone
}

// put stores it under e's lock, updates the cache and pushes.
func (m *Module) put(ctx context.Context, user jid.JID, e *entry, it, before store.RosterItem, existed bool) error {
	ver, err := m.store.PutRosterItem(ctx, user.Local(), it)
	if err != nil {
		return fmt.Errorf("roster: store %s of %s: %w", it.JID, user.Bare(), err)
	}
	e.items[it.JID] = clone(it)
	e.version = ver
	switch _, shared := m.shared(user)[it.JID]; {
	case !it.Hidden || shared:
		m.push(user, m.version(user, e), m.view(user, it))
	case existed && !before.Hidden:
		// Only the state machine hides nothing; a visible item never turns
		// hidden, but if it did the client must forget it.
		m.push(user, m.version(user, e), removedElement(it.JID))
	}
	return nil
}

// delete removes the item under e's lock and pushes the removal if the
// client knew the item.
func (m *Module) delete(ctx context.Context, user jid.JID, e *entry, key string, before store.RosterItem) error {
	ver, err := m.store.DeleteRosterItem(ctx, user.Local(), key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("roster: delete %s of %s: %w", key, user.Bare(), err)
	}
	delete(e.items, key)
	if err == nil {
		e.version = ver
	}
	if sc, shared := m.shared(user)[key]; shared {
		// The contact stays through its shared groups (shared.go).
		it, _ := overlay(store.RosterItem{JID: key}, false, sc, true)
		m.push(user, m.version(user, e), itemElement(it))
	} else if !before.Hidden {
		m.push(user, m.version(user, e), removedElement(key))
	}
	return nil
}

// clone copies the groups so callers cannot change the cache. The pending
// stanza is shared: it is never modified in place, only replaced.
func clone(it store.RosterItem) store.RosterItem {
	it.Groups = slices.Clone(it.Groups)
	return it
}
