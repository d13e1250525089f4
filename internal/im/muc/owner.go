package muc

import (
	"context"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// owner serves muc#owner: the configuration form (§10.2) and destroying
// the room (§10.9). Only owners may.
func (rm *room) owner(ctx context.Context, st *stanza.Stanza) {
	if rm.affiliation(st.From) != Owner {
		rm.fail(st, stanza.ErrForbidden.WithText("only owners may configure the room"))
		return
	}
	q := st.Payload()
	if st.Type == "get" {
		rm.reply(st, xmlstream.New("query", NSOwner).Add(rm.cfg.form()))
		return
	}
	if d := q.Child("destroy", NSOwner); d != nil {
		var alt jid.JID
		if v := d.Get("jid"); v != "" {
			j, err := jid.Parse(v)
			if err != nil {
				rm.fail(st, stanza.ErrJIDMalformed.WithText("bad alternate venue"))
				return
			}
			alt = j
		}
		rm.reply(st)
		rm.destroy(ctx, alt, d.ChildText("reason", NSOwner))
		if f := rm.svc.opts.OnDestroy; f != nil {
			f(rm.jid, st.From, d.ChildText("reason", NSOwner))
		}
		return
	}
	x := q.Child("x", NSData)
	if x == nil {
		rm.fail(st, stanza.ErrBadRequest.WithText("expected a data form or <destroy/>"))
		return
	}
	if x.Get("type") == "cancel" {
		rm.reply(st)
		if rm.locked {
			// §10.1.3: cancelling the initial configuration destroys
			// the room.
			rm.destroy(ctx, jid.JID{}, "")
		}
		return
	}
	cfg, err := rm.cfg.apply(x)
	if err == nil && cfg.Persistent && (!rm.cfg.Persistent || rm.locked) {
		err = rm.svc.mayPersist(ctx, rm)
	}
	if err != nil {
		rm.fail(st, err)
		return
	}
	rm.configure(ctx, cfg)
	rm.reply(st)
}

// configure installs a new configuration, unlocks a new room, stores or
// forgets the room as it becomes persistent or temporary, and tells the
// occupants (§10.2.1).
func (rm *room) configure(ctx context.Context, cfg Config) {
	old, wasLocked := rm.cfg, rm.locked
	rm.cfg, rm.locked = cfg, false
	rm.listingChanged()
	switch {
	case cfg.Persistent && (!old.Persistent || wasLocked):
		rm.persistAll(ctx)
	case cfg.Persistent:
		rm.persist(ctx)
	case old.Persistent && !wasLocked:
		rm.unpersist(ctx)
	}
	if cfg.MembersOnly && !old.MembersOnly {
		// §9.3/§10.2: non-members leave a room that becomes members-only.
		for _, o := range rm.sortedOccupants() {
			if rm.affiliation(o.bare).rank() < Member.rank() {
				rm.removeOccupant(o, presenceInfo{typ: "unavailable", codes: []string{codeMembersOnly}})
			}
		}
	}
	if wasLocked {
		return // nobody else is in a room that was locked
	}
	codes := []string{codeConfigChange}
	if cfg.Logging != old.Logging {
		codes = append(codes, map[bool]string{true: codeLogged, false: codeNotLogged}[cfg.Logging])
	}
	if cfg.nonAnonymous() != old.nonAnonymous() {
		codes = append(codes, map[bool]string{true: codeNowNonAnon, false: codeNowSemiAnon}[cfg.nonAnonymous()])
	}
	rm.notifyConfigChange(codes)
}

// notifyConfigChange tells every occupant that the room changed, with
// the status codes of §10.2.1 (104 and what became of privacy).
func (rm *room) notifyConfigChange(codes []string) {
	x := xmlstream.New("x", NSUser)
	for _, c := range codes {
		x.Add(xmlstream.New("status", NSUser, "code", c))
	}
	t := build(stanza.Message, rm.jid, "groupchat", stanza.NewID(), x)
	for _, o := range rm.occupants {
		rm.sendTo(t, o)
	}
}

// destroy removes every occupant with a <destroy/> notice (§10.9) and
// deletes the room. The caller holds rm.mu.
func (rm *room) destroy(ctx context.Context, alt jid.JID, reason string) {
	d := xmlstream.New("destroy", NSUser)
	if !alt.IsZero() {
		d.Attr = append(d.Attr, xmlstream.Attr{Name: "jid", Value: alt.String()})
	}
	if reason != "" {
		d.Add(xmlstream.NewText("reason", NSUser, reason))
	}
	for _, o := range rm.sortedOccupants() {
		p := presenceInfo{typ: "unavailable", role: NoRole, destroy: d}
		rm.send(rm.presenceTemplate(o, p, true, true), o.sessions...)
	}
	clear(rm.occupants)
	clear(rm.byReal)
	if rm.cfg.Persistent && !rm.locked {
		rm.unpersist(ctx)
	}
	rm.gone = true
	rm.svc.forget(rm)
}
