package blocking

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Namespaces of XEP-0191.
const (
	NS       = "urn:xmpp:blocking"
	NSErrors = "urn:xmpp:blocking:errors"
)

// DefaultMaxItems bounds one user's block list.
const DefaultMaxItems = 1000

// ErrBlocked is the error for a stanza a user sends to a JID they blocked
// (XEP-0191 §3.3): not-acceptable with the <blocked/> condition.
var ErrBlocked = stanza.ErrNotAcceptable.WithType("cancel").WithApp(xmlstream.New("blocked", NSErrors))

// Rosters gives the contacts that may see a user's presence, so that
// blocking one sends them unavailable presence and unblocking sends the
// current presence (XEP-0191 §3.3, §3.4). store.Rosters provides it.
type Rosters interface {
	Roster(ctx context.Context, username string) ([]store.RosterItem, int64, error)
}

// Options configure the module.
type Options struct {
	Store store.Blocklists
	// Rosters may be nil; then no presence is sent on block or unblock.
	Rosters Rosters
	// MaxItems is the most JIDs a list may hold; 0 means
	// DefaultMaxItems.
	MaxItems int

	// Reports keeps the XEP-0377 reports attached to blocks; nil drops
	// them (the block still happens).
	Reports Reports
	// Audit records each report (audit.ActionAbuseReport); may be nil.
	Audit Auditor
	// ForwardTo are the accounts (the admins) each stored report is sent
	// to as a message; none: reports are only stored and audited.
	ForwardTo []jid.JID
	// Report limits; 0 means the Default of the same name.
	MaxReportText      int
	MaxReportStanzaIDs int
	ReportsPerDay      int
	// Now is the clock for report times (time.Now if nil).
	Now func() time.Time
	Log *slog.Logger
}

// Module is the blocking command for one domain.
type Module struct {
	router   *router.Router // set by Register
	store    store.Blocklists
	rosters  Rosters
	cache    *cache
	maxItems int

	reports       Reports
	audit         Auditor
	forwardTo     []jid.JID
	maxReportText int
	maxReportIDs  int
	reportsPerDay int
	now           func() time.Time
	log           *slog.Logger

	mu sync.Mutex // guards interested
	// interested holds, per username and resource, the session that
	// requested the block list: only those get pushes (XEP-0191 §3.3).
	// The session value tells a later session on the same resource apart;
	// an entry goes when its session ends (router.SessionEnded).
	interested map[string]map[string]router.Session
}

// New returns the module; install it with Register.
func New(o Options) *Module {
	defaults.Positive(&o.MaxItems, DefaultMaxItems)
	defaults.Positive(&o.MaxReportText, DefaultMaxReportText)
	defaults.Positive(&o.MaxReportStanzaIDs, DefaultMaxReportStanzaIDs)
	defaults.Positive(&o.ReportsPerDay, DefaultReportsPerDay)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Module{
		store:         o.Store,
		rosters:       o.Rosters,
		maxItems:      o.MaxItems,
		cache:         newCache(o.Store, 0),
		interested:    make(map[string]map[string]router.Session),
		reports:       o.Reports,
		audit:         o.Audit,
		forwardTo:     o.ForwardTo,
		maxReportText: o.MaxReportText,
		maxReportIDs:  o.MaxReportStanzaIDs,
		reportsPerDay: o.ReportsPerDay,
		now:           o.Now,
		log:           o.Log,
	}
}

// Register installs the IQ handler, both interceptors and the session-end
// subscription, and advertises the feature (XEP-0191 §3.1), and spam
// reporting (XEP-0377 §3) when reports are kept.
func (m *Module) Register(r *router.Router) {
	m.router = r
	r.HandleIQ(NS, m.Handle)
	r.InterceptInbound(m.InterceptInbound)
	r.InterceptOutbound(m.InterceptOutbound)
	r.OnSessionEnded(m.sessionEnded)
	r.AddFeature(NS)
	if m.reports != nil {
		// §3: the one feature also says the spam and abuse reasons are
		// understood.
		r.AddFeature(NSReporting)
	}
}

// sessionEnded forgets a session that asked for the block list.
func (m *Module) sessionEnded(_ context.Context, e router.SessionEnded) {
	user := e.JID.Local()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.interested[user][e.JID.Resource()] != e.Last.Session {
		return // not interested, or a later session on the resource
	}
	delete(m.interested[user], e.JID.Resource())
	if len(m.interested[user]) == 0 {
		delete(m.interested, user)
	}
}

// Blocks reports whether user has blocked j. Other modules (e.g. MUC
// invitations, offline delivery) may ask.
func (m *Module) Blocks(ctx context.Context, user string, j jid.JID) (bool, error) {
	l, err := m.cache.get(ctx, user)
	if err != nil {
		return false, err
	}
	return l.Matches(j), nil
}

// Forget drops what the module holds in memory for a user, for when the
// account is deleted (a new account of the same name must not inherit the
// old block list from the cache).
func (m *Module) Forget(user string) {
	m.cache.invalidate(user)
	m.mu.Lock()
	delete(m.interested, user)
	m.mu.Unlock()
}

// InterceptInbound enforces the recipient's list on a stanza to a local
// user (XEP-0191 §3.3): the user appears offline to a blocked sender.
func (m *Module) InterceptInbound(ctx context.Context, st *stanza.Stanza) error {
	if st.From.IsZero() || st.To.Local() == "" || st.From.Bare() == st.To.Bare() {
		return nil
	}
	blocked, err := m.Blocks(ctx, st.To.Local(), st.From)
	if err != nil || !blocked {
		return err
	}
	switch {
	case st.Kind == stanza.Presence:
		// Presence of any kind: no answer, no error.
		return router.ErrDrop
	case st.Kind == stanza.IQ && st.Type != "get" && st.Type != "set":
		return router.ErrDrop // results and errors are dropped silently
	}
	// Messages SHOULD and IQ get/set MUST get service-unavailable: the
	// same answer as for an account that is offline or absent.
	return stanza.ErrServiceUnavailable
}

// InterceptOutbound refuses a stanza a local user sends to a JID they have
// blocked (XEP-0191 §3.3).
func (m *Module) InterceptOutbound(ctx context.Context, st *stanza.Stanza) error {
	if st.To.IsZero() || st.From.Local() == "" || st.To.Bare() == st.From.Bare() {
		return nil
	}
	blocked, err := m.Blocks(ctx, st.From.Local(), st.To)
	if err != nil || !blocked {
		return err
	}
	if st.Kind == stanza.Presence {
		// The contact must see the user as offline: nothing goes out,
		// and the user's own client is not told off for a broadcast.
		return router.ErrDrop
	}
	return ErrBlocked
}

// Handle answers blocklist gets and block/unblock sets.
func (m *Module) Handle(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	user, ok := m.own(iq)
	if !ok {
		// The block list is the user's business with their own server.
		return nil, stanza.ErrForbidden
	}
	q := iq.Payload()
	switch {
	case iq.Type == "get" && q.Name == "blocklist":
		return m.blocklist(ctx, iq, user)
	case iq.Type == "set" && q.Name == "block":
		return nil, m.block(ctx, iq, user, q)
	case iq.Type == "set" && q.Name == "unblock":
		return nil, m.unblock(ctx, iq, user, q)
	}
	return nil, stanza.ErrBadRequest
}

// own reports the sender's username when the IQ addresses the sender's own
// account: no 'to', or the sender's bare JID (RFC 6120 §10.3.3).
func (m *Module) own(iq *stanza.Stanza) (string, bool) {
	if !m.router.IsLocal(iq.From) || iq.From.Local() == "" {
		return "", false
	}
	return iq.From.Local(), iq.To.IsZero() || iq.To == iq.From.Bare()
}

// blocklist answers a get (XEP-0191 §3.2) and remembers the session as
// interested in pushes.
func (m *Module) blocklist(ctx context.Context, iq *stanza.Stanza, user string) (*xmlstream.Element, error) {
	l, err := m.cache.get(ctx, user)
	if err != nil {
		return nil, err
	}
	if res, ok := m.router.Lookup(iq.From); ok {
		m.mu.Lock()
		if m.interested[user] == nil {
			m.interested[user] = make(map[string]router.Session)
		}
		m.interested[user][iq.From.Resource()] = res.Session
		m.mu.Unlock()
	}
	jids := make([]string, 0, len(l))
	for j := range l {
		jids = append(jids, j)
	}
	slices.Sort(jids) // a stable answer, easy to compare
	return itemsElement("blocklist", jids), nil
}

// items parses the <item jid='...'/> children of a block or unblock.
func items(q *xmlstream.Element) ([]jid.JID, error) {
	var out []jid.JID
	for _, c := range q.Children {
		if c.Name != "item" || c.Space != NS {
			continue
		}
		j, err := jid.Parse(c.Get("jid"))
		if err != nil {
			return nil, stanza.ErrJIDMalformed.WithText("bad item jid " + strconv.Quote(c.Get("jid")))
		}
		if !slices.Contains(out, j) {
			out = append(out, j)
		}
	}
	return out, nil
}

func strs(js []jid.JID) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.String()
	}
	return out
}

// block handles a block command (XEP-0191 §3.3).
func (m *Module) block(ctx context.Context, iq *stanza.Stanza, user string, q *xmlstream.Element) error {
	js, err := items(q)
	if err != nil {
		return err
	}
	if len(js) == 0 {
		return stanza.ErrBadRequest.WithText("block needs at least one item") // §3.3 MUST
	}
	old, err := m.cache.get(ctx, user)
	if err != nil {
		return err
	}
	max := m.maxItems
	added := 0
	for _, j := range js {
		if _, ok := old[j.String()]; !ok {
			added++
		}
	}
	if len(old)+added > max {
		return stanza.ErrPolicyViolation.WithText("block list holds at most " + strconv.Itoa(max) + " JIDs")
	}
	err = m.store.Block(ctx, user, strs(js))
	m.cache.invalidate(user) // even on error: the store may have changed
	if err != nil {
		return fmt.Errorf("blocking: block for %s: %w", user, err)
	}
	m.router.Reply(ctx, stanza.Result(iq, nil))
	m.report(ctx, iq.From, q) // XEP-0377: after the block, which happens regardless
	m.push(user, itemsElement("block", strs(js)))
	// §3.3: contacts that could see the user's presence now see the user
	// go offline, from every available resource.
	m.presenceTo(ctx, iq.From.Bare(), NewList(js), true)
	return router.ErrNoReply
}

// unblock handles an unblock command: the listed JIDs, or all of them when
// none is listed (XEP-0191 §3.4, §3.5).
func (m *Module) unblock(ctx context.Context, iq *stanza.Stanza, user string, q *xmlstream.Element) error {
	js, err := items(q)
	if err != nil {
		return err
	}
	old, err := m.cache.get(ctx, user)
	if err != nil {
		return err
	}
	err = m.store.Unblock(ctx, user, strs(js)) // none means all
	m.cache.invalidate(user)
	if err != nil {
		return fmt.Errorf("blocking: unblock for %s: %w", user, err)
	}
	m.router.Reply(ctx, stanza.Result(iq, nil))
	m.push(user, itemsElement("unblock", strs(js)))
	// §3.4: contacts allowed to see the user's presence get its current
	// state again. Only what was actually blocked counts.
	removed := make(List)
	if len(js) == 0 {
		removed = old
	}
	for _, j := range js {
		if _, ok := old[j.String()]; ok {
			removed[j.String()] = struct{}{}
		}
	}
	m.presenceTo(ctx, iq.From.Bare(), removed, false)
	return router.ErrNoReply
}

func itemsElement(name string, jids []string) *xmlstream.Element {
	el := xmlstream.New(name, NS)
	for _, j := range jids {
		el.Add(xmlstream.New("item", NS, "jid", j))
	}
	return el
}

// push sends a block or unblock IQ set to every session of the user that
// requested the block list (XEP-0191 §3.3-§3.5), including the one that
// made the change.
func (m *Module) push(user string, payload *xmlstream.Element) {
	m.mu.Lock()
	var targets []router.Session
	for _, s := range m.interested[user] {
		targets = append(targets, s)
	}
	m.mu.Unlock()
	for _, s := range targets {
		p := stanza.New(stanza.IQ, jid.JID{}, s.JID(), "set", stanza.NewID())
		p.El.Add(payload)
		m.router.DeliverTo(s.JID(), p)
	}
}

// presenceTo sends the user's presence to the roster contacts matched by
// changed that are subscribed to it (subscription from or both: RFC 6121
// §4 "allowed to receive presence"): unavailable from each available
// resource when blocking, the current presence when unblocking.
func (m *Module) presenceTo(ctx context.Context, bare jid.JID, changed List, unavailable bool) {
	if m.rosters == nil || len(changed) == 0 {
		return
	}
	var avail []router.Resource
	for _, r := range m.router.Resources(bare) {
		if r.Available {
			avail = append(avail, r)
		}
	}
	if len(avail) == 0 {
		return // offline users already look offline
	}
	items, _, err := m.rosters.Roster(ctx, bare.Local())
	if err != nil {
		return // presence here is a courtesy; the block itself is stored
	}
	for _, it := range items {
		if it.Subscription != store.SubFrom && it.Subscription != store.SubBoth {
			continue
		}
		contact, err := jid.Parse(it.JID)
		if err != nil || !changed.Matches(contact) {
			continue
		}
		for _, r := range avail {
			if p := presence(r, contact, unavailable); p != nil {
				m.router.Send(ctx, p)
			}
		}
	}
}

// presence builds the presence one resource sends to contact: unavailable,
// or a copy of its last available presence.
func presence(r router.Resource, contact jid.JID, unavailable bool) *stanza.Stanza {
	from := r.Session.JID()
	if unavailable {
		return stanza.New(stanza.Presence, from, contact, "unavailable", "")
	}
	st := r.LastPresence()
	if st == nil {
		return nil
	}
	st.SetFrom(from)
	st.SetTo(contact)
	return st
}
