package muc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"sort"
	"sync"
	"time"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Affiliation is a long-lived relation of a bare JID with a room
// (XEP-0045 §5.2).
type Affiliation string

// Affiliations, from most to least privileged.
const (
	Owner   Affiliation = "owner"
	Admin   Affiliation = "admin"
	Member  Affiliation = "member"
	None    Affiliation = "none"
	Outcast Affiliation = "outcast"
)

// affiliations lists every affiliation from least to most privileged:
// one order for rank and parseAffiliation.
var affiliations = []Affiliation{Outcast, None, Member, Admin, Owner}

func (a Affiliation) rank() int { return rank(affiliations, a) }

func parseAffiliation(s string) (Affiliation, bool) { return parse(affiliations, Affiliation(s)) }

// Role is a temporary position of an occupant in a room (XEP-0045 §5.1).
type Role string

// Roles, from most to least privileged.
const (
	Moderator   Role = "moderator"
	Participant Role = "participant"
	Visitor     Role = "visitor"
	NoRole      Role = "none"
)

// roles lists every role from least to most privileged.
var roles = []Role{NoRole, Visitor, Participant, Moderator}

func (r Role) rank() int { return rank(roles, r) }

func parseRole(s string) (Role, bool) { return parse(roles, Role(s)) }

// rank is v's place in order, least privileged 0; a value not in order
// ranks with the least.
func rank[T comparable](order []T, v T) int { return max(slices.Index(order, v), 0) }

// parse returns v if order holds it.
func parse[T comparable](order []T, v T) (T, bool) {
	if slices.Contains(order, v) {
		return v, true
	}
	var zero T
	return zero, false
}

// occupant is someone in the room under a nickname. One user may be
// present with several sessions (resources) under the same nickname; each
// gets everything the room sends.
type occupant struct {
	nick     string
	bare     jid.JID   // the real bare JID
	sessions []jid.JID // real full JIDs, the most recent presence first
	role     Role
	id       string // XEP-0421 occupant id
	// status holds the children of the occupant's last presence that are
	// relayed (show, status, priority, caps, ...), without the MUC ones.
	status []*xmlstream.Element
}

// room is one chat room. All state is guarded by mu; stanzas produced
// under mu are queued in out and sent by flush once mu is released, so the
// router (which may bounce an error back into the room) is never called
// with the lock held.
type room struct {
	svc *Module
	jid jid.JID
	// creator is the bare JID of the user who made the room by joining
	// it (zero for rooms an operator made), from cfg.Creator; fixed, so
	// it may be read without mu.
	creator jid.JID

	mu          sync.Mutex // guards everything below
	cfg         Config
	secret      []byte // keys occupant ids (XEP-0421)
	locked      bool   // created and not yet configured (§10.1.1)
	gone        bool   // destroyed or emptied: no longer the live room
	subject     string
	subjectFrom jid.JID
	subjectSet  bool       // a subject message was ever sent (maybe empty)
	vcard       *roomVCard // the room's vCard (avatar.go), nil if none
	affs        map[jid.JID]Affiliation
	nicks       map[jid.JID]string    // reserved nicknames, from the store
	occupants   map[string]*occupant  // by foldNick(nick)
	byReal      map[jid.JID]*occupant // by real full JID
	history     history
	voiceAsked  map[jid.JID]time.Time // last voice request by bare JID (§7.13)
	// pending holds IQs relayed between occupants, by the id the room
	// gave them; pendingOrder is their arrival order, oldest first.
	pending      map[string]pendingIQ
	pendingOrder []string
	out          []delivery
	draining     bool
	// behind holds the occupants that the last batch with groupchat
	// messages pushed over their queue bound: each groupchat sender
	// waits for them before it reads on (pay).
	behind []<-chan struct{}
	// spare is the last sent batch's array, emptied, for the next out:
	// a busy room queues into the same memory instead of growing a new
	// slice for every message (up to maxSpare deliveries).
	spare []delivery
}

// maxSpare bounds the queue array a room keeps between batches.
const maxSpare = 4096

func newRoom(s *Module, bare jid.JID, cfg Config) *room {
	secret := make([]byte, 32)
	rand.Read(secret)
	creator, _ := jid.Parse(cfg.Creator)
	return &room{
		svc:       s,
		jid:       bare,
		creator:   creator,
		cfg:       cfg,
		secret:    secret,
		affs:      make(map[jid.JID]Affiliation),
		nicks:     make(map[jid.JID]string),
		occupants: make(map[string]*occupant),
		byReal:    make(map[jid.JID]*occupant),
		history:   history{max: max(s.opts.HistorySize, 0)},
	}
}

// affiliation of a real JID, from its bare JID and its domain (§5.2):
// a ban of the user wins; otherwise the higher of the two, so that a
// personal membership (say, from registering a nickname) does not demote
// a user whose whole domain is admin.
func (rm *room) affiliation(real jid.JID) Affiliation {
	own, ok := rm.affs[real.Bare()]
	if ok && own == Outcast {
		return Outcast
	}
	dom, domOK := rm.affs[real.DomainJID()]
	switch {
	case !ok && !domOK:
		return None
	case !ok:
		return dom
	case domOK && dom.rank() > own.rank():
		return dom
	}
	return own
}

// defaultRole is the role an affiliation enters with (§5.1.2).
func (rm *room) defaultRole(a Affiliation) Role {
	switch a {
	case Owner, Admin:
		return Moderator
	case Member:
		return Participant
	case Outcast:
		return NoRole
	}
	if rm.cfg.Moderated {
		return Visitor
	}
	return Participant
}

// occupantID derives the XEP-0421 id: stable per real bare JID and room,
// unlinkable across rooms, revealing nothing of the JID.
func (rm *room) occupantID(bare jid.JID) string {
	m := hmac.New(sha256.New, rm.secret)
	m.Write([]byte(bare.String()))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func (rm *room) nickJID(nick string) jid.JID {
	j, err := rm.jid.WithResource(nick)
	if err != nil {
		return rm.jid // nicks are validated on entry; cannot happen
	}
	return j
}

// sortedOccupants lists occupants by nickname, for stable output.
func (rm *room) sortedOccupants() []*occupant {
	out := make([]*occupant, 0, len(rm.occupants))
	for _, o := range rm.occupants {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].nick < out[j].nick })
	return out
}

// delivery is one stanza the room will send: a shared template (its
// serialised bytes hold every attribute but 'to') and the recipient. Many
// deliveries share one template; flush splices 'to' into a copy of its
// bytes for each.
type delivery struct {
	tpl *template
	to  jid.JID
	rec *archiveRecord // non-nil: archive tpl (to is zero)
	// tomb, if non-nil, replaces an archived message with its
	// tombstone (tpl and to are unset).
	tomb *tombstone
}

// template is a stanza built once by the room for any number of
// recipients. el.Raw is its serialisation without 'to'.
type template struct {
	kind     stanza.Kind
	from     jid.JID
	typ, id  string
	el       *xmlstream.Element
	children []*xmlstream.Element // el.Children, capacity clipped
	// nameEnd is where el.Raw's element name ends: a recipient's 'to'
	// goes there (when el.Raw has none), so that a delivery is one exact
	// allocation and two copies rather than a scan of the start tag
	// (xmlstream.SetAttr) per recipient. 0: not known, use SetAttr.
	nameEnd int
}

// newTemplate serialises el (a message, presence or iq from the room,
// without 'to') once.
func newTemplate(kind stanza.Kind, from jid.JID, typ, id string, el *xmlstream.Element) *template {
	el.Raw = nil
	el.Raw = xmlstream.AppendIn(nil, el, stanza.NSClient)
	t := &template{kind: kind, from: from, typ: typ, id: id, el: el,
		children: el.Children[:len(el.Children):len(el.Children)]}
	if n := 1 + len(el.Name); !hasAttr(el, "to") && len(el.Raw) > n && string(el.Raw[1:n]) == el.Name &&
		el.Raw[0] == '<' && (el.Raw[n] == ' ' || el.Raw[n] == '>' || el.Raw[n] == '/') {
		t.nameEnd = n
	}
	return t
}

// build returns a stanza template with from, type and id attributes and
// the given children.
func build(kind stanza.Kind, from jid.JID, typ, id string, children ...*xmlstream.Element) *template {
	el := xmlstream.New(kind.String(), stanza.NSClient)
	el.Attr = appendAttrs(el.Attr, from, typ, id)
	el.Children = children
	return newTemplate(kind, from, typ, id, el)
}

func appendAttrs(a []xmlstream.Attr, from jid.JID, typ, id string) []xmlstream.Attr {
	a = append(a, xmlstream.Attr{Name: "from", Value: from.String()})
	if typ != "" {
		a = append(a, xmlstream.Attr{Name: "type", Value: typ})
	}
	if id != "" {
		a = append(a, xmlstream.Attr{Name: "id", Value: id})
	}
	return a
}

// boxed holds a delivered stanza, its element and attributes in one
// allocation.
type boxed struct {
	st    stanza.Stanza
	el    xmlstream.Element
	attrs [4]xmlstream.Attr
}

// stanza materialises a delivery: the shared children, own attributes,
// and the template's bytes with 'to' spliced in.
func (t *template) stanza(to jid.JID) *stanza.Stanza {
	b := new(boxed)
	attrs := append(b.attrs[:0], xmlstream.Attr{Name: "to", Value: to.String()})
	attrs = appendAttrs(attrs, t.from, t.typ, t.id)
	b.el = xmlstream.Element{Name: t.el.Name, Space: t.el.Space, Attr: attrs[:len(attrs):len(attrs)],
		Children: t.children, Raw: t.addressed(attrs[0].Value)}
	b.st = stanza.Stanza{Kind: t.kind, El: &b.el, From: t.from, To: to, Type: t.typ, ID: t.id}
	return &b.st
}

// addressed returns the template's bytes with to='to' after the element
// name. A JID that is not plain ASCII without markup characters (only a
// resourcepart may hold those) goes through xmlstream.SetAttr, which
// escapes.
func (t *template) addressed(to string) []byte {
	if t.nameEnd == 0 || !plainAttr(to) {
		return xmlstream.SetAttr(t.el.Raw, "to", to)
	}
	raw := t.el.Raw
	b := make([]byte, 0, len(raw)+len(to)+6)
	b = append(b, raw[:t.nameEnd]...)
	b = append(b, " to='"...)
	b = append(b, to...)
	b = append(b, '\'')
	return append(b, raw[t.nameEnd:]...)
}

// hasAttr reports whether el has an attribute name, even an empty one.
func hasAttr(el *xmlstream.Element, name string) bool {
	for _, a := range el.Attr {
		if a.Name == name {
			return true
		}
	}
	return false
}

// plainAttr reports whether s is printable ASCII that an attribute value
// carries as it is.
func plainAttr(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x80, c == '<', c == '>', c == '&', c == '\'', c == '"':
			return false
		}
	}
	return true
}

// unaddressed materialises the template without 'to'.
func (t *template) unaddressed() *stanza.Stanza {
	b := new(boxed)
	attrs := appendAttrs(b.attrs[:0], t.from, t.typ, t.id)
	b.el = xmlstream.Element{Name: t.el.Name, Space: t.el.Space, Attr: attrs[:len(attrs):len(attrs)],
		Children: t.children, Raw: t.el.Raw}
	b.st = stanza.Stanza{Kind: t.kind, El: &b.el, From: t.from, Type: t.typ, ID: t.id}
	return &b.st
}

// send queues a template for recipients; the caller holds rm.mu.
func (rm *room) send(t *template, to ...jid.JID) {
	for _, j := range to {
		rm.queue(delivery{tpl: t, to: j})
	}
}

// queue adds a delivery to the outbox; the caller holds rm.mu.
func (rm *room) queue(d delivery) {
	if rm.out == nil {
		rm.out, rm.spare = rm.spare, nil
	}
	rm.out = append(rm.out, d)
}

// sendTo queues a template for every session of an occupant.
func (rm *room) sendTo(t *template, o *occupant) { rm.send(t, o.sessions...) }

// flush sends what is queued, in order, without holding rm.mu while the
// router works. One goroutine drains at a time; stanzas queued meanwhile
// (by other senders, whose flush returns at once, or by a bounce that
// re-enters the room) are sent by the drainer. The caller drains at most
// flushRounds batches and then hands the rest to a goroutine of its own:
// in a busy room the queue may never run dry, and the caller is a
// session's reader, whose own stream would go unread meanwhile.
func (rm *room) flush(ctx context.Context) {
	rm.mu.Lock()
	if rm.draining || len(rm.out) == 0 {
		rm.mu.Unlock()
		return
	}
	rm.draining = true
	rm.mu.Unlock()
	for range flushRounds {
		if !rm.sendQueued(ctx) {
			return
		}
	}
	// The drainer outlives this stanza: no deadline of its own.
	go rm.drain(context.WithoutCancel(ctx))
}

// flushRounds is how many batches a flushing caller sends itself: its own,
// and one more for what its deliveries bounced back into the room.
const flushRounds = 2

// drain sends batches until the queue is empty.
func (rm *room) drain(ctx context.Context) {
	for rm.sendQueued(ctx) {
	}
}

// sendQueued sends the queued batch and reports whether more was queued
// meanwhile; if not, draining ends. The caller is the drainer.
func (rm *room) sendQueued(ctx context.Context) bool {
	rm.mu.Lock()
	batch := rm.out
	rm.out = nil
	rm.mu.Unlock()
	// In compliance mode (Options.Required) the archive writes come
	// first and a message whose write failed reaches nobody; otherwise
	// the deliveries go first and the batch's writes follow, one store
	// call for the batch.
	required := rm.svc.opts.Required
	var failed map[*template]bool
	if required {
		failed = rm.store(ctx, batch)
	}
	// ow collects the occupants this batch's groupchat messages pushed
	// over their bound (rm.behind, for the senders to pay), and the
	// occupants' writers, which are woken once the whole batch is queued
	// (router.Batched): each occupant then gets the batch in one write,
	// not one write per message (docs/design/03, "Fan-out").
	ow := router.Owed{Batch: true}
	fanned := false
	for i := range batch {
		d := batch[i]
		switch {
		case d.rec != nil || d.tomb != nil:
			if required {
				batch[i] = delivery{} // done
			}
			continue
		case failed[d.tpl]:
		case d.to.IsZero():
			rm.svc.opts.OnGroupchat(ctx, rm.jid, d.tpl.unaddressed())
		case d.tpl.typ == "groupchat" && d.tpl.kind == stanza.Message:
			// Never observed nor stored for the occupant (router,
			// inboundMessage): ow gets nothing but Behind.
			rm.svc.router.SendInto(ctx, d.tpl.stanza(d.to), &ow)
			fanned = true
		default:
			rm.svc.router.Send(ctx, d.tpl.stanza(d.to))
		}
		batch[i] = delivery{}
	}
	ow.WakeAll()
	if !required {
		rm.store(ctx, batch)
		clear(batch)
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if len(failed) > 0 {
		rm.history.drop(failed) // nobody saw them: no history either
	}
	if fanned {
		rm.behind = ow.Behind
	}
	if cap(batch) <= maxSpare {
		rm.spare = batch[:0]
	}
	if len(rm.out) == 0 {
		rm.draining = false
		return false
	}
	return true
}

// pay paces the sender of a groupchat message (docs/design/03,
// "Backpressure"): it waits, as router.Pay does (at most router.PaceWait),
// until the occupants that the room's latest fan-out pushed over their
// queue bound are back under it. A flood through the room is thus paced
// by its slowest occupant instead of getting it disconnected at twice its
// bound. The sender waits after its flush, holding no lock; the room's
// drainer never waits, so one slow occupant does not stall the room's
// other traffic (presence, IQs), and a sender never waits for the drainer
// (which may be its own goroutine, further up the stack).
func (rm *room) pay(ctx context.Context) {
	rm.mu.Lock()
	behind := rm.behind
	rm.mu.Unlock()
	router.Pay(ctx, router.Owed{Behind: behind})
}

// unlockAndFlush releases rm.mu and sends what was queued under it.
func (rm *room) unlockAndFlush(ctx context.Context) {
	rm.mu.Unlock()
	rm.flush(ctx)
}

// reply queues an answer to a stanza that came from a real JID.
func (rm *room) reply(st *stanza.Stanza, payload ...*xmlstream.Element) {
	from := st.To
	if st.Kind == stanza.IQ {
		rm.send(build(stanza.IQ, from, "result", st.ID, payload...), st.From)
	}
}

// fail queues an error answer to st (RFC 6120 §8.3) from the address it
// was sent to.
func (rm *room) fail(st *stanza.Stanza, e *stanza.Error) {
	r := stanza.ErrorReply(st, e)
	if r == nil {
		return
	}
	rm.send(newTemplate(r.Kind, r.From, r.Type, r.ID, r.El), r.To)
}
