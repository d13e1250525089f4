package muc

import (
	"context"

	"parley/internal/dataform"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Namespaces of registration with a room (§7.10, XEP-0077).
const (
	NSIQRegister = "jabber:iq:register"
	NSRegister   = NS + "#register"
)

const (
	fRegNick = "muc#register_roomnick"
	// nodeRoomUser is the disco node of the reserved nickname (§7.12).
	nodeRoomUser = "x-roomuser-item"
)

// registerForm is the registration form (§7.10). It asks only
// for the nickname: the store keeps nothing else of a registration, and a
// form should not ask for what is thrown away.
func registerForm(nick string) *xmlstream.Element {
	nickField := dataform.NewField(fRegNick, dataform.TextSingle, "Desired Nickname", nick)
	nickField.Required = true
	f := dataform.New(dataform.TypeForm, NSRegister, nickField)
	f.Title = "Room registration"
	f.Instructions = []string{"Choose the nickname to reserve in this room."}
	return f.Element()
}

// parseRegisterForm returns the nickname of a submitted muc#register
// form, prepared as a join's would be. A form that is not one is a bad
// request (§7.10); a nickname that cannot be one is not acceptable.
func parseRegisterForm(x *xmlstream.Element) (string, *stanza.Error) {
	f, serr := readSubmission(x, NSRegister, false)
	if serr != nil {
		return "", serr
	}
	raw, err := f.Value(fRegNick)
	if err != nil {
		return "", stanzaError(err)
	}
	if raw == "" {
		return "", stanza.ErrBadRequest.WithText("muc#register_roomnick is required")
	}
	nick, ok := normNick(raw)
	if !ok {
		return "", stanza.ErrNotAcceptable.WithText("not a valid nickname")
	}
	return nick, nil
}

// register serves jabber:iq:register on the room: the form, registering
// (a reserved nickname and membership) and cancelling (§7.10; XEP-0077
// §3.1, §3.2). The caller holds rm.mu.
func (rm *room) register(ctx context.Context, st *stanza.Stanza, q *xmlstream.Element) {
	aff := rm.affiliation(st.From)
	switch {
	case rm.locked && aff != Owner:
		rm.fail(st, stanza.ErrItemNotFound.WithText("no such room"))
		return
	case aff == Outcast:
		rm.fail(st, stanza.ErrForbidden.WithText("you are banned from this room"))
		return
	case rm.cfg.MembersOnly && aff.rank() < Member.rank():
		// §7.10: registering would make a member, and a members-only
		// room takes its members from its admins (§9.3).
		rm.fail(st, stanza.ErrNotAllowed.WithText("only admins add members to this room"))
		return
	}
	bare := st.From.Bare()
	// On the member list of an open room is registered too (§9.5).
	registered := rm.nicks[bare] != "" || rm.affs[bare] == Member
	if st.Type == "get" {
		res := xmlstream.New("query", NSIQRegister)
		if registered {
			res.Add(xmlstream.New("registered", NSIQRegister))
		}
		rm.reply(st, res.Add(registerForm(rm.nicks[bare])))
		return
	}
	if q.Child("remove", NSIQRegister) != nil {
		rm.unregister(ctx, st, q, registered)
		return
	}
	x := q.Child("x", NSData)
	if x == nil {
		rm.fail(st, stanza.ErrBadRequest.WithText("expected a muc#register data form"))
		return
	}
	if x.Get("type") == "cancel" {
		rm.reply(st)
		return
	}
	nick, err := parseRegisterForm(x)
	if err != nil {
		rm.fail(st, err)
		return
	}
	if o := rm.holder(nick); (o != nil && o.bare != bare) || rm.reservedByOther(nick, bare) {
		rm.fail(st, stanza.ErrConflict.WithText("that nickname is reserved or in use"))
		return
	}
	rm.nicks[bare] = nick
	rm.reply(st)
	if own := rm.affs[bare]; own.rank() >= Member.rank() || aff.rank() > Member.rank() {
		// A higher affiliation stays. One that comes from the user's
		// domain needs a personal membership to hold the nickname; the
		// domain's still ranks above it.
		if own.rank() < Member.rank() {
			own = Member
			rm.affs[bare] = own
		}
		rm.persistAffiliation(ctx, bare, own, "")
		return
	}
	// §7.10: the user becomes a member at once (no approval step), and
	// occupants see the new affiliation.
	rm.applyAffiliation(ctx, change{target: bare, aff: Member}, "")
}

// unregister cancels a registration (XEP-0077 §3.2): the reserved
// nickname goes, and a member goes back to none (leaving a members-only
// room, §9.4). Owners and admins keep their affiliation.
func (rm *room) unregister(ctx context.Context, st *stanza.Stanza, q *xmlstream.Element, registered bool) {
	bare := st.From.Bare()
	switch {
	case len(q.Children) != 1:
		rm.fail(st, stanza.ErrBadRequest.WithText("<remove/> must be the only child"))
		return
	case !registered:
		rm.fail(st, stanza.ErrRegistrationRequired.WithText("you are not registered"))
		return
	}
	delete(rm.nicks, bare)
	rm.reply(st)
	if own := rm.affs[bare]; own != Member {
		rm.persistAffiliation(ctx, bare, own, "")
		return
	}
	rm.applyAffiliation(ctx, change{target: bare, aff: None}, "")
}

// reservedNick answers a disco#info query on node x-roomuser-item with
// the user's reserved nickname, or nothing (§7.12).
func (rm *room) reservedNick(st *stanza.Stanza) {
	res := xmlstream.New("query", NSDiscoInfo, "node", nodeRoomUser)
	if n := rm.nicks[st.From.Bare()]; n != "" {
		res.Add(xmlstream.New("identity", NSDiscoInfo, "category", "conference", "type", "text", "name", n))
	}
	rm.reply(st, res)
}
