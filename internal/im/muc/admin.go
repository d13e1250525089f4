package muc

import (
	"context"
	"slices"
	"strings"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// change is one item of a muc#admin set: a role for a nickname or an
// affiliation for a JID (§8, §9, §10.3-10.7).
type change struct {
	nick   string
	target jid.JID // bare JID, for affiliation changes
	role   Role
	aff    Affiliation
	reason string
	// reserve is the nickname an admin reserves with an affiliation
	// (§9.3, §10.3: nick on an item with a jid).
	reserve string
}

// admin serves muc#admin gets (lists) and sets (changes).
func (rm *room) admin(ctx context.Context, st *stanza.Stanza) {
	actor := rm.byReal[st.From]
	actorAff := rm.affiliation(st.From)
	var items []*xmlstream.Element
	for _, c := range st.Payload().Children {
		if c.Name == "item" && c.Space == NSAdmin {
			items = append(items, c)
		}
	}
	if len(items) == 0 {
		rm.fail(st, stanza.ErrBadRequest.WithText("no item"))
		return
	}
	if st.Type == "get" {
		rm.adminList(st, items[0], actor, actorAff)
		return
	}
	changes := make([]change, 0, len(items))
	for _, it := range items {
		c, err := rm.parseChange(it)
		if err == nil {
			err = rm.permitted(c, actor, actorAff)
		}
		if err != nil {
			rm.fail(st, err)
			return
		}
		changes = append(changes, c)
	}
	if err := rm.keepsAnOwner(changes); err != nil {
		rm.fail(st, err)
		return
	}
	actorNick := ""
	if actor != nil {
		actorNick = actor.nick
	}
	for _, c := range changes {
		if c.aff != "" {
			rm.applyAffiliation(ctx, c, actorNick)
		} else {
			rm.applyRole(c, actorNick)
		}
	}
	rm.reply(st)
}

func (rm *room) parseChange(it *xmlstream.Element) (change, *stanza.Error) {
	c := change{nick: it.Get("nick"), reason: it.ChildText("reason", NSAdmin)}
	if v := it.Get("role"); v != "" {
		r, ok := parseRole(v)
		if !ok || it.Get("affiliation") != "" {
			return c, stanza.ErrBadRequest.WithText("bad role item")
		}
		c.role = r
		if rm.holder(c.nick) == nil {
			return c, stanza.ErrItemNotFound.WithText("no occupant with that nickname")
		}
		return c, nil
	}
	a, ok := parseAffiliation(it.Get("affiliation"))
	if !ok {
		return c, stanza.ErrBadRequest.WithText("an item needs a role or an affiliation")
	}
	c.aff = a
	switch {
	case it.Get("jid") != "":
		j, err := jid.Parse(it.Get("jid"))
		if err != nil {
			return c, stanza.ErrJIDMalformed
		}
		c.target = j.Bare()
		if c.nick != "" && a.rank() >= Member.rank() {
			nick, ok := normNick(c.nick)
			switch {
			case !ok:
				return c, stanza.ErrNotAcceptable.WithText("not a valid nickname")
			case rm.reservedByOther(nick, c.target):
				return c, stanza.ErrConflict.WithText("that nickname is reserved by someone else")
			}
			c.reserve = nick
		}
	case c.nick != "" && rm.holder(c.nick) != nil:
		c.target = rm.holder(c.nick).bare
	default:
		return c, stanza.ErrBadRequest.WithText("an affiliation item needs a jid")
	}
	return c, nil
}

// permitted applies §5.1.3 and §5.2.2: forbidden when the actor lacks the
// privilege, not-allowed when the target outranks what the actor may touch.
func (rm *room) permitted(c change, actor *occupant, actorAff Affiliation) *stanza.Error {
	notAllowed := stanza.ErrNotAllowed.WithText("you may not change that occupant")
	if c.aff == "" {
		target := rm.holder(c.nick)
		targetAff := rm.affiliation(target.bare)
		if actor == nil || actor.role != Moderator {
			return stanza.ErrForbidden.WithText("only moderators may change roles")
		}
		switch c.role {
		case Moderator:
			if actorAff.rank() < Admin.rank() {
				return stanza.ErrForbidden.WithText("only admins may grant moderator status")
			}
		case NoRole, Visitor:
			// A moderator cannot kick or silence an admin or owner, nor
			// anyone whose affiliation is above the actor's (§8.2, §8.4).
			if targetAff.rank() >= Admin.rank() || targetAff.rank() > actorAff.rank() {
				return notAllowed
			}
		case Participant:
			if target.role == Moderator && (actorAff.rank() < Admin.rank() || targetAff.rank() >= Admin.rank()) {
				return notAllowed // §9.7: revoking moderator is an admin's act
			}
		}
		return nil
	}
	if actorAff.rank() < Admin.rank() {
		return stanza.ErrForbidden.WithText("only admins may change affiliations")
	}
	targetAff := rm.affs[c.target]
	if (c.aff == Owner || c.aff == Admin || targetAff == Owner || targetAff == Admin) && actorAff != Owner {
		if c.aff == Owner || c.aff == Admin {
			return stanza.ErrForbidden.WithText("only owners may grant admin or owner")
		}
		return notAllowed // §9.1: an admin cannot ban or demote an owner or admin
	}
	return nil
}

// keepsAnOwner: §10.6, a room never loses its last owner.
func (rm *room) keepsAnOwner(changes []change) *stanza.Error {
	owners := map[jid.JID]bool{}
	for j, a := range rm.affs {
		if a == Owner {
			owners[j] = true
		}
	}
	for _, c := range changes {
		if c.aff != "" {
			owners[c.target] = c.aff == Owner
		}
	}
	for _, is := range owners {
		if is {
			return nil
		}
	}
	return stanza.ErrConflict.WithText("the room must keep an owner")
}

func (rm *room) applyRole(c change, actorNick string) {
	o := rm.holder(c.nick)
	if c.role == NoRole {
		// §8.2: kicked, status 307, told with the actor and reason.
		rm.removeOccupant(o, presenceInfo{typ: "unavailable", codes: []string{codeKicked},
			reason: c.reason, actor: actorNick})
		return
	}
	if o.role == c.role {
		return
	}
	o.role = c.role
	rm.broadcastPresence(o, presenceInfo{reason: c.reason, actor: actorNick}, o.sessions)
}

func (rm *room) applyAffiliation(ctx context.Context, c change, actorNick string) {
	if c.reserve != "" {
		rm.nicks[c.target] = c.reserve
	}
	rm.setAffiliation(ctx, c.target, c.aff, c.reason)
	for _, o := range rm.sortedOccupants() {
		if o.bare != c.target && o.bare.DomainJID() != c.target {
			continue
		}
		switch {
		case c.aff == Outcast:
			// §9.1: banned, status 301.
			rm.removeOccupant(o, presenceInfo{typ: "unavailable", codes: []string{codeBanned},
				reason: c.reason, actor: actorNick})
		case rm.cfg.MembersOnly && c.aff == None:
			// §9.4: no longer a member of a members-only room: 321.
			rm.removeOccupant(o, presenceInfo{typ: "unavailable", codes: []string{codeAffChange},
				reason: c.reason, actor: actorNick})
		default:
			o.role = rm.defaultRole(rm.affiliation(o.bare))
			rm.broadcastPresence(o, presenceInfo{reason: c.reason, actor: actorNick}, o.sessions)
		}
	}
}

// setAffiliation records an affiliation, durably for a persistent room.
func (rm *room) setAffiliation(ctx context.Context, target jid.JID, a Affiliation, reason string) {
	if a == None || a == Outcast {
		// §9.1: a ban drops the reserved nickname; so does losing the
		// affiliation, whose stored record held it.
		delete(rm.nicks, target)
	}
	if a == None {
		delete(rm.affs, target)
	} else {
		rm.affs[target] = a
	}
	rm.persistAffiliation(ctx, target, a, reason)
}

// adminList answers a muc#admin get for an affiliation or role list
// (§8.5, §8.8, §9.5, §9.8, §10.5, §10.8).
func (rm *room) adminList(st *stanza.Stanza, it *xmlstream.Element, actor *occupant, actorAff Affiliation) {
	res := xmlstream.New("query", NSAdmin)
	if v := it.Get("role"); v != "" {
		role, ok := parseRole(v)
		if !ok || role == NoRole {
			rm.fail(st, stanza.ErrBadRequest)
			return
		}
		if actor == nil || actor.role != Moderator {
			rm.fail(st, stanza.ErrForbidden)
			return
		}
		for _, o := range rm.sortedOccupants() {
			if o.role == role {
				res.Add(xmlstream.New("item", NSAdmin, "nick", o.nick, "role", string(o.role),
					"affiliation", string(rm.affiliation(o.bare)), "jid", o.sessions[0].String()))
			}
		}
		rm.reply(st, res)
		return
	}
	aff, ok := parseAffiliation(it.Get("affiliation"))
	if !ok || aff == None {
		rm.fail(st, stanza.ErrBadRequest)
		return
	}
	// Members may see the member list of a members-only room (§9.5);
	// every other list is for admins and owners.
	if actorAff.rank() < Admin.rank() && !(aff == Member && rm.cfg.MembersOnly && actorAff == Member) {
		rm.fail(st, stanza.ErrForbidden)
		return
	}
	jids := make([]jid.JID, 0, len(rm.affs))
	for j, a := range rm.affs {
		if a == aff {
			jids = append(jids, j)
		}
	}
	slices.SortFunc(jids, func(a, b jid.JID) int { return strings.Compare(a.String(), b.String()) })
	for _, j := range jids {
		item := xmlstream.New("item", NSAdmin, "affiliation", string(aff), "jid", j.String())
		if n := rm.nicks[j]; n != "" {
			item.Attr = append(item.Attr, xmlstream.Attr{Name: "nick", Value: n})
		}
		res.Add(item)
	}
	rm.reply(st, res)
}
