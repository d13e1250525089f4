package muc

import (
	"context"
	"errors"
	"slices"
	"strings"

	"golang.org/x/text/secure/precis"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Status codes of XEP-0045 §15.6.2 used by the service.
const (
	codeNonAnonymous = "100"
	codeConfigChange = "104"
	codeSelf         = "110"
	codeLogged       = "170"
	codeNotLogged    = "171"
	codeNowNonAnon   = "172"
	codeNowSemiAnon  = "173"
	codeCreated      = "201"
	codeNickFixed    = "210"
	codeBanned       = "301"
	codeNewNick      = "303"
	codeKicked       = "307"
	codeAffChange    = "321"
	codeMembersOnly  = "322"
	codeShutdown     = "332"
	codeError        = "333"
)

// presenceInfo says how an occupant's presence is to be broadcast.
type presenceInfo struct {
	typ       string   // "" or "unavailable"
	codes     []string // status codes for everyone
	selfCodes []string // status codes for the occupant only (110 is added)
	nick      string   // item 'nick': the new nickname with 303
	reason    string   // item <reason/>
	actor     string   // item <actor nick/>
	role      Role     // overrides o.role when set (e.g. none on leave)
	destroy   *xmlstream.Element
}

// presenceTemplate builds o's presence as one receiver class sees it.
func (rm *room) presenceTemplate(o *occupant, p presenceInfo, withJID, self bool) *template {
	role := o.role
	if p.role != "" {
		role = p.role
	}
	item := xmlstream.New("item", NSUser, "affiliation", string(rm.affiliation(o.bare)), "role", string(role))
	if withJID && len(o.sessions) > 0 {
		item.Attr = append(item.Attr, xmlstream.Attr{Name: "jid", Value: o.sessions[0].String()})
	}
	if p.nick != "" {
		item.Attr = append(item.Attr, xmlstream.Attr{Name: "nick", Value: p.nick})
	}
	if p.actor != "" {
		item.Add(xmlstream.New("actor", NSUser, "nick", p.actor))
	}
	if p.reason != "" {
		item.Add(xmlstream.NewText("reason", NSUser, p.reason))
	}
	x := xmlstream.New("x", NSUser).Add(item)
	if p.destroy != nil {
		x.Add(p.destroy)
	}
	codes := p.codes
	if self {
		codes = append(append(slices.Clip(codes), p.selfCodes...), codeSelf)
	}
	for _, c := range codes {
		x.Add(xmlstream.New("status", NSUser, "code", c))
	}
	children := make([]*xmlstream.Element, 0, len(o.status)+2)
	children = append(children, o.status...)
	children = append(children, x, xmlstream.New("occupant-id", NSOccupantID, "id", o.id))
	return build(stanza.Presence, rm.nickJID(o.nick), p.typ, "", children...)
}

// broadcastPresence sends o's presence to every other occupant (with the
// real JID to those allowed to see it, §7.2.3) and self-presence to the
// sessions in self (usually all of o's).
func (rm *room) broadcastPresence(o *occupant, p presenceInfo, self []jid.JID) {
	var withJID, without *template
	for _, r := range rm.occupants {
		if r == o {
			continue
		}
		if rm.cfg.nonAnonymous() || r.role == Moderator {
			if withJID == nil {
				withJID = rm.presenceTemplate(o, p, true, false)
			}
			rm.sendTo(withJID, r)
		} else {
			if without == nil {
				without = rm.presenceTemplate(o, p, false, false)
			}
			rm.sendTo(without, r)
		}
	}
	if len(self) > 0 {
		rm.send(rm.presenceTemplate(o, p, true, true), self...)
	}
}

// relayed keeps the children of a presence that other occupants see:
// everything but the MUC payloads, which the room writes itself, and
// forged occupant ids (XEP-0421 §4: the service MUST strip them).
func relayed(el *xmlstream.Element) []*xmlstream.Element {
	var out []*xmlstream.Element
	for _, c := range el.Children {
		switch c.Space {
		case NS, NSUser, NSOccupantID:
			continue
		}
		if c.Name == "error" {
			continue
		}
		out = append(out, c)
	}
	return out
}

func (s *Module) handlePresence(ctx context.Context, st *stanza.Stanza) {
	switch st.Type {
	case "error":
		s.occupantError(ctx, st)
		return
	case "", "unavailable":
	default:
		return // subscriptions and probes to a room: nothing to do
	}
	bare := st.To.Bare()
	if st.Type == "unavailable" {
		rm, err := s.lookup(ctx, bare)
		if err == nil {
			rm.mu.Lock()
			rm.leave(st)
			rm.unlockAndFlush(ctx)
		}
		return
	}
	nick, ok := normNick(st.To.Resource())
	if !ok {
		// §7.2.1: a join needs a nickname.
		s.bounce(ctx, st, stanza.ErrJIDMalformed.WithText("no valid nickname"))
		return
	}
	for range 3 { // a room emptied meanwhile is gone: look again
		rm, err := s.lookup(ctx, bare)
		created := false
		if errors.Is(err, errNoRoom) {
			if !s.mayCreate(st.From) {
				s.bounce(ctx, st, stanza.ErrNotAllowed.WithText("you may not create rooms here"))
				return
			}
			rm, created, err = s.create(ctx, bare, st.From, true)
		}
		var refused *stanza.Error
		if errors.As(err, &refused) {
			s.bounce(ctx, st, refused)
			return
		}
		if err != nil {
			s.opts.Log.Error("muc: room lookup failed", "room", bare.String(), "err", err)
			s.bounce(ctx, st, stanza.ErrInternalServerError)
			return
		}
		rm.mu.Lock()
		if rm.gone {
			rm.mu.Unlock()
			continue
		}
		rm.available(ctx, st, nick, created)
		rm.unlockAndFlush(ctx)
		return
	}
	s.bounce(ctx, st, stanza.ErrResourceConstraint)
}

// available handles available presence to room/nick: a join, a presence
// update, a rejoin or a nickname change. The caller holds rm.mu.
func (rm *room) available(ctx context.Context, st *stanza.Stanza, nick string, created bool) {
	x := st.El.Child("x", NS)
	if o := rm.byReal[st.From]; o != nil {
		switch {
		case o.nick != nick:
			rm.changeNick(st, o, nick)
		case x != nil:
			rm.rejoin(ctx, st, o, x)
		default:
			o.status = relayed(st.El)
			moveFirst(o, st.From)
			rm.broadcastPresence(o, presenceInfo{}, o.sessions)
		}
		return
	}
	rm.join(ctx, st, nick, x, created)
}

// moveFirst puts a session at the front of the occupant's list: its
// presence is the one shown.
func moveFirst(o *occupant, full jid.JID) {
	if i := slices.Index(o.sessions, full); i > 0 {
		o.sessions = slices.Insert(slices.Delete(o.sessions, i, i+1), 0, full)
	}
}

// admit asks Options.Admit whether st's sender may enter; a refusal is
// answered with its error (a policy error when it is not a stanza error).
func (rm *room) admit(st *stanza.Stanza) bool {
	f := rm.svc.opts.Admit
	if f == nil {
		return true
	}
	occupants := make([]jid.JID, 0, len(rm.occupants))
	for _, o := range rm.occupants {
		occupants = append(occupants, o.bare)
	}
	err := f(rm.jid, st.From.Bare(), occupants)
	if err == nil {
		return true
	}
	var se *stanza.Error
	if !errors.As(err, &se) {
		se = stanza.ErrPolicyViolation
	}
	rm.fail(st, se)
	return false
}

// join enters a new session (§7.2). The checks follow §7.2.5-§7.2.11.
func (rm *room) join(ctx context.Context, st *stanza.Stanza, nick string, x *xmlstream.Element, created bool) {
	aff := rm.affiliation(st.From)
	switch {
	case rm.locked && aff != Owner:
		rm.fail(st, stanza.ErrItemNotFound.WithText("the room is locked until its owner configures it"))
		return
	case aff == Outcast:
		rm.fail(st, stanza.ErrForbidden.WithText("you are banned from this room"))
		return
	case rm.cfg.MembersOnly && aff.rank() < Member.rank():
		rm.fail(st, stanza.ErrRegistrationRequired.WithText("this room is members-only"))
		return
	case rm.cfg.PasswordProtected && aff != Owner && (x == nil || x.ChildText("password", NS) != rm.cfg.Password):
		rm.fail(st, stanza.ErrNotAuthorized.WithText("a password is required"))
		return
	}
	o := rm.holder(nick)
	if o != nil && o.bare != st.From.Bare() {
		rm.fail(st, stanza.ErrConflict.WithText("that nickname is in use"))
		return
	}
	if o == nil && rm.reservedByOther(nick, st.From.Bare()) {
		rm.fail(st, stanza.ErrConflict.WithText("that nickname is reserved"))
		return
	}
	if o == nil && rm.cfg.MaxUsers > 0 && len(rm.occupants) >= rm.cfg.MaxUsers && aff.rank() < Admin.rank() {
		rm.fail(st, stanza.ErrServiceUnavailable.WithType("wait").WithText("the room is full"))
		return
	}
	if o == nil && !rm.admit(st) {
		return
	}
	if o != nil {
		nick = o.nick // the same user's other session: its spelling
	}
	if o == nil {
		o = &occupant{nick: nick, bare: st.From.Bare(), role: rm.defaultRole(aff), id: rm.occupantID(st.From.Bare())}
		rm.occupants[foldNick(nick)] = o
	}
	o.sessions = slices.Insert(o.sessions, 0, st.From)
	o.status = relayed(st.El)
	rm.byReal[st.From] = o

	// §7.2.3: the others' presence first, then ours to them, then
	// self-presence last. The room's avatar comes before all of them, as
	// in ejabberd: a presence from the room's own JID (avatar.go).
	if rm.vcard.photoHash() != "" {
		rm.sendAvatar(st.From)
	}
	rm.sendOccupants(st.From, o)
	var self []string
	if rm.cfg.nonAnonymous() {
		self = append(self, codeNonAnonymous)
	}
	if rm.cfg.Logging {
		self = append(self, codeLogged)
	}
	if created {
		self = append(self, codeCreated)
	}
	if nickChanged(st, nick) {
		self = append(self, codeNickFixed) // normalised (§7.2.2)
	}
	rm.broadcastPresence(o, presenceInfo{selfCodes: self}, []jid.JID{st.From})
	rm.sendHistory(ctx, st.From, parseHistory(x, rm.svc.now()))
	rm.sendSubject(st.From)
}

// rejoin answers a join presence from a session already in the room (a
// client that suspects it dropped out, XEP-0410 §4) with the whole join
// sequence again, history excepted.
func (rm *room) rejoin(ctx context.Context, st *stanza.Stanza, o *occupant, x *xmlstream.Element) {
	o.status = relayed(st.El)
	if rm.vcard.photoHash() != "" {
		rm.sendAvatar(st.From)
	}
	rm.sendOccupants(st.From, o)
	rm.broadcastPresence(o, presenceInfo{}, []jid.JID{st.From})
	rm.sendHistory(ctx, st.From, parseHistory(x, rm.svc.now()))
	rm.sendSubject(st.From)
}

// sendOccupants sends the presence of every occupant but o to a session.
func (rm *room) sendOccupants(to jid.JID, o *occupant) {
	seeJIDs := rm.cfg.nonAnonymous() || o.role == Moderator
	for _, other := range rm.sortedOccupants() {
		if other != o {
			rm.send(rm.presenceTemplate(other, presenceInfo{}, seeJIDs, false), to)
		}
	}
}

func (rm *room) sendHistory(ctx context.Context, to jid.JID, l historyLimits) {
	rm.loadHistory(ctx)
	for _, e := range rm.history.pick(l) {
		rm.send(rm.delayed(e), to)
	}
}

// sendSubject sends the subject, even an empty one, as the last step of a
// join (§7.2.15).
func (rm *room) sendSubject(to jid.JID) {
	from := rm.jid
	if !rm.subjectFrom.IsZero() {
		from = rm.subjectFrom
	}
	rm.send(build(stanza.Message, from, "groupchat", stanza.NewID(),
		xmlstream.NewText("subject", stanza.NSClient, rm.subject)), to)
}

// normNick prepares a nickname with the PRECIS Nickname profile
// (RFC 8266), which XEP-0045 §7.2 recommends: widths mapped, spaces
// trimmed and collapsed, NFKC.
func normNick(raw string) (string, bool) {
	n, err := precis.Nickname.String(raw)
	return n, err == nil && n != ""
}

// nickChanged reports whether the nickname the service uses differs from
// the one the user asked for (status 210).
func nickChanged(st *stanza.Stanza, nick string) bool {
	_, asked, _ := strings.Cut(st.El.Get("to"), "/")
	return asked != nick
}

// holder returns the occupant holding a nickname, compared as RFC 8266
// §2.4 says (case-insensitively), or nil.
func (rm *room) holder(nick string) *occupant {
	return rm.occupants[foldNick(nick)]
}

// foldNick is the key nicknames are compared by: the enforced nickname
// lower-cased (RFC 8266 §2.4). Nicknames that are not valid map to
// themselves and so match nobody's.
func foldNick(nick string) string {
	if n, err := precis.Nickname.String(nick); err == nil {
		nick = n
	}
	return strings.ToLower(nick)
}

// reservedByOther reports whether nick is reserved for another user.
func (rm *room) reservedByOther(nick string, bare jid.JID) bool {
	for j, n := range rm.nicks {
		if foldNick(n) == foldNick(nick) && j != bare {
			return true
		}
	}
	return false
}

// changeNick: §7.6. Every session of the occupant moves.
func (rm *room) changeNick(st *stanza.Stanza, o *occupant, nick string) {
	if other := rm.holder(nick); (other != nil && other != o) || rm.reservedByOther(nick, o.bare) {
		rm.fail(st, stanza.ErrConflict.WithText("that nickname is in use"))
		return
	}
	rm.broadcastPresence(o, presenceInfo{typ: "unavailable", codes: []string{codeNewNick}, nick: nick}, o.sessions)
	delete(rm.occupants, foldNick(o.nick))
	o.nick = nick
	rm.occupants[foldNick(nick)] = o
	o.status = relayed(st.El)
	moveFirst(o, st.From)
	var self []string
	if nickChanged(st, nick) {
		self = append(self, codeNickFixed)
	}
	rm.broadcastPresence(o, presenceInfo{selfCodes: self}, o.sessions)
}

// leave handles unavailable presence from an occupant's session (§7.14).
// One addressed to the room's bare JID (aioxmpp sends it so) is the same
// exit: the session is in the room under one nickname only.
func (rm *room) leave(st *stanza.Stanza) {
	o := rm.byReal[st.From]
	if o == nil {
		return // not in the room: ignore (§7.14)
	}
	if nick, _ := normNick(st.To.Resource()); !st.To.IsBare() && o.nick != nick {
		return // not in the room under that nick: ignore
	}
	o.status = relayed(st.El)
	rm.removeSession(o, st.From, presenceInfo{typ: "unavailable", role: NoRole})
}

// removeSession takes one session out; the occupant leaves with its last
// session, and everyone sees the presence p.
func (rm *room) removeSession(o *occupant, full jid.JID, p presenceInfo) {
	delete(rm.byReal, full)
	o.sessions = slices.DeleteFunc(o.sessions, func(j jid.JID) bool { return j == full })
	if len(o.sessions) > 0 {
		// Other sessions stay: only this one is told it left.
		rm.send(rm.presenceTemplate(o, p, true, true), full)
		return
	}
	o.sessions = []jid.JID{full}
	rm.removeOccupant(o, p)
}

// removeOccupant takes an occupant out with all its sessions, telling
// everyone with presence p (kick, ban, leave, destroy).
func (rm *room) removeOccupant(o *occupant, p presenceInfo) {
	delete(rm.occupants, foldNick(o.nick))
	for _, j := range o.sessions {
		delete(rm.byReal, j)
	}
	if p.role == "" {
		p.role = NoRole
	}
	rm.broadcastPresence(o, p, o.sessions)
	rm.emptied()
}

// emptied drops a temporary room when its last occupant left (§10.1.1:
// a temporary room is destroyed when the last occupant exits).
func (rm *room) emptied() {
	if len(rm.occupants) > 0 || (rm.cfg.Persistent && !rm.locked) {
		return
	}
	rm.gone = true
	rm.svc.forget(rm)
}

// occupantError removes a session that answered the room with an error
// (it lost its state, is gone, or blocks the room): the occupant is
// kicked because of an error, status 307 with 333 (XEP-0045 §15.6.2),
// which everyone sees and the session is told too, so a client that is
// still there knows it is out. An occupant with other sessions keeps
// them; only the failed one is told.
func (s *Module) occupantError(ctx context.Context, st *stanza.Stanza) {
	rm, err := s.lookup(ctx, st.To.Bare())
	if err != nil {
		return
	}
	rm.mu.Lock()
	if o := rm.byReal[st.From]; o != nil {
		rm.removeSession(o, st.From, presenceInfo{typ: "unavailable", role: NoRole,
			codes: []string{codeKicked, codeError}})
	}
	rm.unlockAndFlush(ctx)
}
