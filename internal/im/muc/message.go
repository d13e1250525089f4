package muc

import (
	"context"
	"slices"

	"parley/internal/im/mam"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

func (s *Module) handleMessage(ctx context.Context, st *stanza.Stanza) {
	if st.Type == "error" {
		s.occupantError(ctx, st)
		return
	}
	rm, err := s.lookup(ctx, st.To.Bare())
	if err != nil {
		if st.Type != "groupchat" || st.To.IsBare() {
			s.bounce(ctx, st, stanza.ErrItemNotFound.WithText("no such room"))
		} else {
			s.bounce(ctx, st, stanza.ErrItemNotFound)
		}
		return
	}
	var rec *archiveRecord
	rm.mu.Lock()
	switch {
	case st.To.IsBare() && st.Type == "groupchat":
		rec = rm.groupchat(ctx, st)
	case st.To.IsBare():
		rm.mediated(st)
	default:
		rm.private(st)
	}
	rm.unlockAndFlush(ctx)
	// Another goroutine may be draining the room's outbox: the sender is
	// acknowledged only once its message is in the archive. In compliance
	// mode a message the archive could not hold reached nobody, and its
	// sender is told so.
	if err := rec.wait(ctx); err != nil && s.opts.Required {
		s.bounce(ctx, st, errNotStored)
	}
	if st.To.IsBare() && st.Type == "groupchat" {
		rm.pay(ctx)
	}
}

// stripped returns the children of a message sent to the room without
// what only the room may write: XEP-0359 ids claiming to be the room's
// (§5), occupant ids (XEP-0421 §4), MUC user payloads and delays.
func (rm *room) stripped(el *xmlstream.Element) []*xmlstream.Element {
	out := make([]*xmlstream.Element, 0, len(el.Children)+2)
	for _, c := range el.Children {
		switch {
		case c.Space == NSStanzaID && c.Get("by") == rm.jid.String():
		case c.Space == NSOccupantID:
		case c.Space == NSUser:
		default:
			out = append(out, c)
		}
	}
	return out
}

// groupchat broadcasts a message to every occupant (§7.4), or changes the
// subject (§8.1). The caller holds rm.mu and flushes, then waits for the
// archive record returned (nil when nothing is archived), and pays
// (rm.pay) for the occupants the room's fan-out left behind.
func (rm *room) groupchat(ctx context.Context, st *stanza.Stanza) *archiveRecord {
	o := rm.byReal[st.From]
	if o == nil {
		rm.fail(st, stanza.ErrNotAcceptable.WithText("only occupants may send messages to the room"))
		return nil
	}
	subj := st.El.Child("subject", "")
	body := st.El.Child("body", "")
	switch {
	case o.role == Visitor || o.role == NoRole:
		rm.fail(st, stanza.ErrForbidden.WithText("visitors may not speak in a moderated room"))
		return nil
	case subj != nil && body == nil && !rm.mayChangeSubject(o):
		rm.fail(st, stanza.ErrForbidden.WithText("you may not change the subject"))
		return nil
	}
	from := rm.nickJID(o.nick)
	sid := stanza.NewID()
	children := rm.stripped(st.El)
	children = append(children,
		xmlstream.New("stanza-id", NSStanzaID, "id", sid, "by", rm.jid.String()),
		xmlstream.New("occupant-id", NSOccupantID, "id", o.id))
	el := &xmlstream.Element{Name: "message", Space: stanza.NSClient, Children: children}
	el.Attr = appendAttrs(nil, from, "groupchat", st.ID)
	if lang := st.El.Get("xml:lang"); lang != "" {
		el.Attr = append(el.Attr, xmlstream.Attr{Name: "xml:lang", Value: lang})
	}
	t := newTemplate(stanza.Message, from, "groupchat", st.ID, el)
	subjectChange := subj != nil && body == nil
	if subjectChange {
		// §8.1: a message with a subject and no body changes the
		// subject; it is not history.
		rm.subject, rm.subjectFrom, rm.subjectSet = subj.Text, from, true
		rm.persist(ctx)
	} else {
		rm.loadHistory(ctx) // the archive's messages come before this one
		rm.history.add(historyEntry{tpl: t, at: rm.svc.now(), stanzaID: sid})
	}
	for _, r := range rm.occupants {
		rm.sendTo(t, r)
	}
	if rm.svc.opts.OnGroupchat != nil {
		// The hook sees the message as broadcast: without 'to'.
		rm.queue(delivery{tpl: t})
	}
	if subjectChange {
		return nil // the room's record keeps the subject
	}
	rec := rm.queueArchive(t, sid)
	if id, ns := mam.RetractedID(st.El); id != "" {
		rm.senderRetract(ctx, o, from, id, ns)
	}
	return rec
}

// senderRetract applies an occupant's retraction of its own message
// (XEP-0424; in a room the id is the room's stanza-id): the message
// leaves the history and becomes a tombstone in the room's archive. The
// retraction itself was broadcast and archived like any message. One
// that names another occupant's message changes nothing (XEP-0424 §7:
// only the sender may retract), which the occupant id (XEP-0421, one
// per user and room) tells. The caller holds rm.mu.
func (rm *room) senderRetract(ctx context.Context, o *occupant, by jid.JID, id, ns string) {
	own := false
	if i := rm.history.find(id); i >= 0 {
		if occupantIDOf(rm.history.entries[i].tpl.el) != o.id {
			return
		}
		rm.history.entries = slices.Delete(rm.history.entries, i, i+1)
		own = true
	}
	if !rm.archiving() {
		return
	}
	if !own {
		p, err := rm.svc.opts.Archive.QueryArchive(ctx, rm.jid.String(), store.ArchiveQuery{IDs: []string{id}, Limit: 1})
		if err != nil || len(p.Messages) != 1 {
			return
		}
		el, err := xmlstream.Parse(p.Messages[0].Stanza, archivedLimits)
		if err != nil || occupantIDOf(el) != o.id {
			return
		}
	}
	marker := xmlstream.New("retracted", ns, "stamp", rm.svc.now().UTC().Format("2006-01-02T15:04:05Z"))
	if ns == NSRetract0 {
		marker.Attr = append(marker.Attr, xmlstream.Attr{Name: "by", Value: by.String()})
	}
	rm.queue(delivery{tomb: &tombstone{id: id, marker: marker}})
}

// occupantIDOf returns the XEP-0421 occupant id the room stamped on a
// message, or "".
func occupantIDOf(el *xmlstream.Element) string {
	if c := el.Child("occupant-id", NSOccupantID); c != nil {
		return c.Get("id")
	}
	return ""
}

func (rm *room) mayChangeSubject(o *occupant) bool {
	return o.role == Moderator || (rm.cfg.ChangeSubject && o.role == Participant)
}

// private relays a message to an occupant's sessions (§7.5).
func (rm *room) private(st *stanza.Stanza) {
	o := rm.byReal[st.From]
	switch {
	case st.Type == "groupchat":
		rm.fail(st, stanza.ErrBadRequest.WithText("private messages must not be of type groupchat"))
		return
	case o == nil:
		rm.fail(st, stanza.ErrNotAcceptable.WithText("only occupants may send private messages"))
		return
	}
	target := rm.holder(st.To.Resource())
	if target == nil {
		rm.fail(st, stanza.ErrItemNotFound.WithText("no occupant with that nickname"))
		return
	}
	if !rm.mayPM(o) {
		rm.fail(st, stanza.ErrForbidden.WithText("private messages are not allowed here"))
		return
	}
	children := rm.stripped(st.El)
	children = append(children, xmlstream.New("x", NSUser),
		xmlstream.New("occupant-id", NSOccupantID, "id", o.id))
	el := &xmlstream.Element{Name: "message", Space: stanza.NSClient, Children: children}
	el.Attr = appendAttrs(nil, rm.nickJID(o.nick), st.Type, st.ID)
	rm.sendTo(newTemplate(stanza.Message, rm.nickJID(o.nick), st.Type, st.ID, el), target)
}

func (rm *room) mayPM(o *occupant) bool {
	switch rm.cfg.AllowPM {
	case "anyone":
		return true
	case "participants":
		return o.role.rank() >= Participant.rank()
	case "moderators":
		return o.role == Moderator
	}
	return false
}

// mediated handles a non-groupchat message to the room itself: mediated
// invitations and declines (§7.8.2, §7.8.3), voice requests and their
// approval (§7.13, §8.6).
func (rm *room) mediated(st *stanza.Stanza) {
	x := st.El.Child("x", NSUser)
	if form := st.El.Child("x", NSData); x == nil && form != nil {
		rm.voice(st, form)
		return
	}
	if x == nil {
		rm.fail(st, stanza.ErrBadRequest.WithText("messages to the room must be of type groupchat"))
		return
	}
	if d := x.Child("decline", NSUser); d != nil {
		rm.decline(st, d)
		return
	}
	invites := 0
	for _, inv := range x.Children {
		if inv.Name == "invite" && inv.Space == NSUser {
			invites++
			if !rm.invite(st, inv) {
				return
			}
		}
	}
	if invites == 0 {
		rm.fail(st, stanza.ErrBadRequest)
	}
}

// invite forwards one invitation (§7.8.2). In a members-only room an
// invitation by an admin or owner also makes the invitee a member.
func (rm *room) invite(st *stanza.Stanza, inv *xmlstream.Element) bool {
	o := rm.byReal[st.From]
	if o == nil {
		rm.fail(st, stanza.ErrNotAcceptable.WithText("only occupants may invite"))
		return false
	}
	to, err := jid.Parse(inv.Get("to"))
	if err != nil {
		rm.fail(st, stanza.ErrJIDMalformed.WithText("bad invitee address"))
		return false
	}
	aff := rm.affiliation(st.From)
	if rm.cfg.MembersOnly && !rm.cfg.AllowInvites && aff.rank() < Admin.rank() {
		rm.fail(st, stanza.ErrForbidden.WithText("only admins may invite to this room"))
		return false
	}
	if rm.cfg.MembersOnly && rm.affiliation(to) == None {
		rm.setAffiliation(context.Background(), to.Bare(), Member, "")
	}
	fwd := xmlstream.New("invite", NSUser, "from", st.From.String())
	if r := inv.ChildText("reason", NSUser); r != "" {
		fwd.Add(xmlstream.NewText("reason", NSUser, r))
	}
	x := xmlstream.New("x", NSUser).Add(fwd)
	if rm.cfg.PasswordProtected {
		x.Add(xmlstream.NewText("password", NSUser, rm.cfg.Password))
	}
	body := st.From.Bare().String() + " invites you to the room " + rm.jid.String()
	rm.send(build(stanza.Message, rm.jid, "", st.ID, x,
		xmlstream.NewText("body", stanza.NSClient, body)), to)
	return true
}

// decline forwards an invitee's refusal to the inviter (§7.8.3).
func (rm *room) decline(st *stanza.Stanza, d *xmlstream.Element) {
	to, err := jid.Parse(d.Get("to"))
	if err != nil {
		rm.fail(st, stanza.ErrJIDMalformed.WithText("bad inviter address"))
		return
	}
	fwd := xmlstream.New("decline", NSUser, "from", st.From.Bare().String())
	if r := d.ChildText("reason", NSUser); r != "" {
		fwd.Add(xmlstream.NewText("reason", NSUser, r))
	}
	rm.send(build(stanza.Message, rm.jid, "", st.ID, xmlstream.New("x", NSUser).Add(fwd)), to)
}
