package pep

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"parley/internal/defaults"
	"parley/internal/entitycaps"
	"parley/internal/im/pubsub"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// DiscoTimeout is how long the service waits, unless Module.DiscoTimeout
// says otherwise, for a client to answer the disco#info query that
// verifies its entity capabilities.
const DiscoTimeout = 20 * time.Second

// interest is what the service knows of one available session's wishes
// (XEP-0163 §4.2): its caps and the nodes it wants notifications of.
type interest struct {
	key    string          // "algo ver" of its caps; "" without usable caps
	node   string          // the caps' node, to ask node#ver (XEP-0115 §6.2)
	notify map[string]bool // nil until the caps are known
	// owners, for a remote contact's session, are the local accounts it
	// sent available presence to: whose last items it gets (nil for a
	// local session, which gets those of its roster).
	owners map[jid.JID]bool
}

// maxRemoteResources bounds the sessions of one remote contact the
// service keeps interests for: the remote server decides its resources.
const maxRemoteResources = 16

// interests keeps the sessions' interests and the caps being discovered.
//
// Discovering a ver asks a session and may wait DiscoTimeout for an
// answer that never comes, so discoveries are bounded twice: at most
// Limits.Discoveries run at once (more wait in a queue, in order), and
// each account is charged for the vers its sessions brought in, at most
// Limits.AccountDiscoveries running or queued. An account advertising
// ever new caps that it never answers thus holds a few places and no
// more, and every other account's clients still have theirs discovered.
type interestTable struct {
	mu       sync.Mutex // guards everything below
	sessions map[jid.JID]*interest
	// remote indexes the remote contacts' sessions in sessions by bare
	// JID: notifications to a remote contact go to these.
	remote map[jid.JID]map[jid.JID]bool
	// waiting holds, for each ver being discovered or queued, the
	// sessions that sent it; the first is asked, the next if its answer
	// fails.
	waiting map[string][]jid.JID
	queue   []string          // vers waiting for a place, oldest first
	running int               // discover goroutines
	charged map[string]string // ver -> the account charged for it
	owed    map[string]int    // account -> vers it is charged for
}

// Available is the presence hook (presence.Handler.OnAvailable) for
// available presence broadcast by a local session: it learns the
// session's caps, looking them up if the ver is unknown, and sends the
// last published items of the nodes it newly wants (XEP-0163 §4.3.2-4).
func (m *Module) Available(ctx context.Context, st *stanza.Stanza, initial bool) {
	if nodes := m.learn(st, initial, jid.JID{}); len(nodes) > 0 {
		m.sendLast(ctx, st.From, nodes)
	}
}

// RemotePresence is the presence hook (presence.Handler.OnRemote) for
// presence from a remote contact's session to a local account: as for a
// local session, the service learns its caps (asking it across the link)
// and sends it the account's last items, so that a remote contact
// subscribed to the account's presence gets its notifications
// (XEP-0163 §4.3). Presence from anyone else is not kept.
func (m *Module) RemotePresence(ctx context.Context, st *stanza.Stanza) {
	full, own := st.From, st.To.Bare()
	if st.Type == "unavailable" {
		m.forget(full)
		return
	}
	if st.Type != "" || full.IsBare() || m.roster == nil {
		return
	}
	it, ok, err := m.roster.Item(ctx, own, full.Bare())
	if err != nil || !ok || (it.Subscription != store.SubFrom && it.Subscription != store.SubBoth) {
		return
	}
	t := &m.interests
	t.mu.Lock()
	if s := t.sessions[full]; s != nil && !s.owners[own] {
		// Known already, with presence to another account: it is this
		// account's audience too.
		s.owners[own] = true
		nodes := s.notify
		if s.key != keyOf(st) {
			nodes = nil // new caps: learn them below
		}
		t.mu.Unlock()
		if nodes == nil {
			nodes = m.learn(st, false, own)
		}
		m.sendLastOf(ctx, own, full, nodes)
		return
	}
	if t.sessions[full] == nil && len(t.remote[full.Bare()]) >= maxRemoteResources {
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	if nodes := m.learn(st, false, own); len(nodes) > 0 {
		m.sendLastOf(ctx, own, full, nodes)
	}
}

// keyOf is the "algo ver" of a presence's usable caps, "" without.
func keyOf(st *stanza.Stanza) string {
	algo, _, ver, ok := capsOf(st)
	if !ok {
		return ""
	}
	return algo + " " + ver
}

// learn records the caps of a session's available presence (st.From)
// and returns the nodes whose last items it should get now: those it
// wants newly, nil while its caps are being discovered. own is the
// local account a remote contact's presence went to (zero for a local
// session).
func (m *Module) learn(st *stanza.Stanza, initial bool, own jid.JID) map[string]bool {
	full := st.From
	_, node, _, _ := capsOf(st)
	key := keyOf(st)
	notify, known := m.caps.get(key)
	t := &m.interests
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.sessions[full]
	if s != nil && !initial && s.key == key && (s.notify != nil || t.waiting[key] != nil) {
		return nil // a presence update with the same caps: nothing new
	}
	var before map[string]bool
	if s != nil && !initial {
		before = s.notify
	}
	next := &interest{key: key, node: node}
	if !own.IsZero() {
		next.owners = map[jid.JID]bool{own: true}
		if s != nil {
			maps.Copy(next.owners, s.owners)
		}
		if t.remote[full.Bare()] == nil {
			t.remote[full.Bare()] = map[jid.JID]bool{}
		}
		t.remote[full.Bare()][full] = true
	}
	s = next
	t.sessions[full] = s
	// A remote contact's lookups are charged to its bare JID, which
	// cannot be taken for a local account's name.
	acct := full.Local()
	if !own.IsZero() {
		acct = full.Bare().String()
	}
	switch {
	case key == "":
		s.notify = map[string]bool{}
	case known:
		s.notify = notify
	case t.waiting[key] != nil:
		t.waiting[key] = append(t.waiting[key], full)
	case t.owed[acct] >= m.limits.AccountDiscoveries:
		// The account has its share under way: this ver is not looked
		// up now; the session's next presence with it tries again.
		m.log.Debug("pep: caps discovery share used", "jid", full.String())
	default:
		t.waiting[key] = []jid.JID{full}
		t.charged[key] = acct
		t.owed[acct]++
		if t.running < m.limits.Discoveries {
			m.start(key)
		} else {
			t.queue = append(t.queue, key)
		}
	}
	if s.notify == nil {
		return nil
	}
	return added(before, s.notify)
}

// Unavailable is the presence hook for a session that sent unavailable
// presence: it wants no notifications until it is available again.
func (m *Module) Unavailable(full jid.JID) { m.forget(full) }

// forget drops what the service knows of a session's interests; a
// session that ended (Router.OnSessionEnded) is forgotten at once. A
// discovery it waits for skips it when its turn comes.
func (m *Module) forget(full jid.JID) {
	t := &m.interests
	t.mu.Lock()
	delete(t.sessions, full)
	if r := t.remote[full.Bare()]; r != nil {
		delete(r, full)
		if len(r) == 0 {
			delete(t.remote, full.Bare())
		}
	}
	t.mu.Unlock()
}

// remoteWanting returns the sessions of a remote contact that asked for
// a node's notifications.
func (m *Module) remoteWanting(bare jid.JID, node string) []jid.JID {
	t := &m.interests
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []jid.JID
	for full := range t.remote[bare] {
		if s := t.sessions[full]; s != nil && s.notify[node] {
			out = append(out, full)
		}
	}
	return out
}

// Close stops the caps lookups under way and waits for them.
func (m *Module) Close() {
	m.stop()
	m.wg.Wait()
}

// wants reports whether an available session asked for notifications of
// a node (XEP-0163 §4.2: its caps include node+notify).
func (m *Module) wants(full jid.JID, node string) bool {
	m.interests.mu.Lock()
	defer m.interests.mu.Unlock()
	s := m.interests.sessions[full]
	return s != nil && s.notify[node]
}

// added is the nodes in now but not in before.
func added(before, now map[string]bool) map[string]bool {
	if len(before) == 0 {
		return now
	}
	out := make(map[string]bool)
	for n := range now {
		if !before[n] {
			out[n] = true
		}
	}
	return out
}

// start runs a discovery of key; the caller holds the table's lock.
func (m *Module) start(key string) {
	m.interests.running++
	m.wg.Add(1)
	go m.discover(key)
}

// finish ends the discovery of key under the table's lock: the ver's
// waiters are dropped, its account's charge released, and the oldest
// queued ver that still has waiters takes the place.
func (m *Module) finish(key string) {
	t := &m.interests
	delete(t.waiting, key)
	if acct, ok := t.charged[key]; ok {
		delete(t.charged, key)
		if t.owed[acct]--; t.owed[acct] <= 0 {
			delete(t.owed, acct)
		}
	}
	t.running--
	for len(t.queue) > 0 && m.ctx.Err() == nil {
		next := t.queue[0]
		t.queue = t.queue[1:]
		if t.waiting[next] != nil {
			m.start(next)
			return
		}
	}
}

// discover asks the sessions waiting for a ver, one at a time, for their
// disco#info at node#ver (XEP-0115 §6.2) until an answer verifies; then
// the ver is cached and every waiting session learns its interests.
func (m *Module) discover(key string) {
	defer m.wg.Done()
	t := &m.interests
	for {
		t.mu.Lock()
		var ask jid.JID
		var node string
		ws := t.waiting[key]
		for len(ws) > 0 && ask.IsZero() {
			if s := t.sessions[ws[0]]; s != nil && s.key == key && s.notify == nil {
				ask, node = ws[0], s.node
			}
			ws = ws[1:]
		}
		if ask.IsZero() || m.ctx.Err() != nil {
			m.finish(key)
			t.mu.Unlock()
			return
		}
		t.waiting[key] = ws
		t.mu.Unlock()

		notify, ok := m.verify(ask, node, key)
		if !ok {
			continue
		}
		m.caps.put(key, notify)
		t.mu.Lock()
		ws = append(t.waiting[key], ask)
		m.finish(key)
		var learned []jid.JID
		for _, full := range ws {
			if s := t.sessions[full]; s != nil && s.key == key && s.notify == nil {
				s.notify = notify
				learned = append(learned, full)
			}
		}
		t.mu.Unlock()
		for _, full := range learned {
			m.sendLast(m.ctx, full, notify)
		}
		return
	}
}

// verify asks full for its disco#info at node#ver and checks that the
// answer hashes to ver (XEP-0115 §5.4); it returns the interests the
// answer states.
func (m *Module) verify(full jid.JID, node, key string) (map[string]bool, bool) {
	algo, ver, _ := strings.Cut(key, " ") // the key is "algo ver"
	wait := m.DiscoTimeout
	defaults.Positive(&wait, DiscoTimeout)
	ctx, cancel := context.WithTimeout(m.ctx, wait)
	defer cancel()
	q := stanza.New(stanza.IQ, jid.JID{}, full, "get", "")
	q.El.Add(xmlstream.New("query", NSDiscoInfo, "node", node+"#"+ver))
	res, err := m.router.Query(ctx, q)
	if err != nil || res.Type != "result" {
		m.log.Debug("pep: caps not discovered", "jid", full.String(), "err", err)
		return nil, false
	}
	query := res.El.Child("query", NSDiscoInfo)
	if got, ok := entitycaps.Ver(algo, query); !ok || got != ver {
		m.log.Info("pep: caps do not verify", "jid", full.String(), "ver", ver)
		return nil, false
	}
	return interests(query), true
}

// sendLast sends a newly available (or newly interested) session the
// last published item of each node it wants, of its own account and of
// each contact whose presence it receives, as the node's access model
// allows (XEP-0163 §4.3.4).
func (m *Module) sendLast(ctx context.Context, full jid.JID, nodes map[string]bool) {
	if len(nodes) == 0 {
		return
	}
	if !m.router.IsLocal(full) { // a remote contact: the accounts it sent presence to
		m.interests.mu.Lock()
		var owners []jid.JID
		if s := m.interests.sessions[full]; s != nil {
			owners = slices.Collect(maps.Keys(s.owners))
		}
		m.interests.mu.Unlock()
		for _, own := range owners {
			m.sendLastOf(ctx, own, full, nodes)
		}
		return
	}
	owners := []jid.JID{full.Bare()}
	if m.roster != nil {
		_, publishers, err := m.roster.Audience(ctx, full.Bare())
		if err != nil {
			m.log.Error("pep: roster for last items", "jid", full.String(), "err", err)
		}
		for _, p := range publishers {
			if p != full.Bare() && m.router.IsLocal(p) {
				owners = append(owners, p)
			}
		}
	}
	for _, own := range owners {
		m.sendLastOf(ctx, own, full, nodes)
	}
}

// sendLastOf sends full the last item of each of own's nodes it wants and
// may read, under own's event lock.
func (m *Module) sendLastOf(ctx context.Context, own, full jid.JID, nodes map[string]bool) {
	defer m.lockOwner(own).Unlock()
	ns, err := m.store.PEPNodes(ctx, own.Local())
	if err != nil {
		m.log.Error("pep: nodes for last items", "jid", own.String(), "err", err)
		return
	}
	var affs map[string]string // full's affiliations with own's nodes (§8.9)
	if full.Bare() != own {
		if affs, err = m.host(own).AffiliationsOf(ctx, full); err != nil {
			m.log.Error("pep: affiliations for last items", "jid", own.String(), "err", err)
			return
		}
	}
	for _, sn := range ns {
		if !nodes[sn.Node] || !sn.PersistItems {
			continue
		}
		n := fromStore(sn)
		if n.AccessModel == store.AccessRoster && full.Bare() != own {
			if err := m.extend(ctx, own, &n); err != nil {
				m.log.Error("pep: node for last items", "jid", own.String(), "err", err)
				continue
			}
		}
		aff := store.AffiliationNone
		if a, ok := affs[n.Name]; ok {
			aff = a
		}
		if err := m.accessAs(ctx, own, full, n, aff); err != nil {
			continue
		}
		items, err := m.store.PEPItems(ctx, own.Local(), n.Name, nil, 1)
		if err != nil || len(items) == 0 {
			continue
		}
		it := items[len(items)-1]
		m.send(ctx, own, full, pubsub.ItemEvent(n.Name, it.ID, own.String(), it.Payload), m.host(own).Delay(it.Updated))
	}
}

// send delivers one event notification, ev the payload of its <event/>,
// to a session (XEP-0163 §4.3.1: from the owner's bare JID, as a
// headline: the core's Event), unless either side has blocked the other
// (XEP-0163 §4.3.3; XEP-0191 §3.3); extra elements (a <delay/>) follow
// the event.
func (m *Module) send(ctx context.Context, own, full jid.JID, ev *xmlstream.Element, extra ...*xmlstream.Element) {
	if m.blocked(ctx, own, full) {
		return
	}
	msg := m.host(own).Event(full, ev, extra...)
	if m.router.IsLocal(full) {
		m.router.DeliverTo(full, msg)
	} else {
		m.router.Send(ctx, msg) // a remote contact's session, across the link
	}
}

// blocked reports whether the owner blocks the recipient or a local
// recipient blocks the owner. When the list cannot be read the event is
// not sent: a missed notification is better than one to a blocked contact.
func (m *Module) blocked(ctx context.Context, own, full jid.JID) bool {
	if m.Blocks == nil || full.Bare() == own {
		return false
	}
	b, err := m.Blocks(ctx, own.Local(), full)
	if err == nil && !b && m.router.IsLocal(full) {
		b, err = m.Blocks(ctx, full.Local(), own)
	}
	if err != nil {
		m.log.Error("pep: block list", "jid", own.String(), "err", err)
		return true
	}
	return b
}
