package muc

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Room avatars: a room's vcard-temp document (XEP-0054) with a PHOTO, set
// by its owners and fetched by anyone who may see the room, as XEP-0486
// (MUC Avatars) describes what deployed services do. The photo's SHA-1
// (XEP-0153 §4.2: of the decoded BINVAL, hex) is shown in the room's
// muc#roominfo form, and in a presence from the room's bare JID with a
// vcard-temp:x:update payload (XEP-0153 §3.1; XEP-0486 §5.2), sent to
// every session that joins and to all occupants when the avatar changes,
// as ejabberd and Prosody's mod_vcard_muc do. That presence comes from
// the room itself, not in occupants' presences: there a vcard-temp:x:update
// is the occupant's own avatar, which the room relays untouched.

// Namespaces of room avatars.
const (
	NSVCard       = "vcard-temp"          // XEP-0054
	NSVCardUpdate = "vcard-temp:x:update" // XEP-0153
	// fieldAvatarHash is XEP-0486's muc#roominfo field.
	fieldAvatarHash = "muc#roominfo_avatarhash"
)

// DefaultMaxVCardSize bounds a room's vCard in serialised bytes, the
// same as an account's (internal/im/vcard): room for an avatar, not a
// file store.
const DefaultMaxVCardSize = 64 << 10

// roomVCard is a room's vCard and the hashes of its photos.
type roomVCard struct {
	raw    []byte             // what is stored
	el     *xmlstream.Element // raw parsed, for replies
	hashes []string           // SHA-1 (hex) of each PHOTO, in document order
}

// photoHash is the hash occupants are told of: the first photo's, "" for
// none (an empty <photo/> says "no avatar", XEP-0153 §3.1).
func (v *roomVCard) photoHash() string {
	if v == nil || len(v.hashes) == 0 {
		return ""
	}
	return v.hashes[0]
}

// parseVCard checks a vCard an owner sets: at most max bytes, every PHOTO
// an image given inline (TYPE and BINVAL, XEP-0153 §3.1), whose hashes it
// returns. An empty <vCard/> returns nil: it removes the avatar
// (XEP-0486 §3.2).
func parseVCard(q *xmlstream.Element, max int) (*roomVCard, error) {
	if len(q.Children) == 0 && strings.TrimSpace(q.Text) == "" {
		return nil, nil
	}
	raw := xmlstream.Append(nil, q)
	if len(raw) > max {
		// A size cap is local service policy (RFC 6120 §8.3.3.12).
		return nil, stanza.ErrPolicyViolation.WithText("vCard larger than " + strconv.Itoa(max) + " bytes")
	}
	el, err := xmlstream.Parse(raw, xmlstream.Limits{})
	if err != nil {
		return nil, stanza.ErrBadRequest.WithText("unreadable vCard")
	}
	v := &roomVCard{raw: raw, el: el}
	for _, p := range el.Children {
		if p.Name != "PHOTO" || p.Space != NSVCard {
			continue
		}
		typ := strings.TrimSpace(p.ChildText("TYPE", NSVCard))
		bin := p.ChildText("BINVAL", NSVCard)
		if typ == "" || bin == "" {
			return nil, stanza.ErrBadRequest.WithText("a room's PHOTO needs TYPE and BINVAL")
		}
		if !strings.HasPrefix(typ, "image/") {
			return nil, stanza.ErrNotAcceptable.WithText("PHOTO TYPE is not an image type")
		}
		h, ok := binvalHash(bin)
		if !ok {
			return nil, stanza.ErrBadRequest.WithText("PHOTO BINVAL is not base64")
		}
		v.hashes = append(v.hashes, h)
	}
	return v, nil
}

// binvalHash decodes a BINVAL (base64, which clients wrap in lines) and
// hashes the image.
func binvalHash(bin string) (string, bool) {
	bin = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, bin)
	img, err := base64.StdEncoding.DecodeString(bin)
	if err != nil || len(img) == 0 {
		return "", false
	}
	sum := sha1.Sum(img)
	return hex.EncodeToString(sum[:]), true
}

// loadVCard reads a stored room's vCard; none if it has none. A stored
// vCard that no longer parses (or passes today's checks) is logged and
// left out rather than keeping the room from loading.
func (s *Module) loadVCard(ctx context.Context, bare jid.JID) (*roomVCard, error) {
	raw, err := s.opts.Rooms.RoomVCard(ctx, bare.String())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	el, err := xmlstream.Parse(raw, xmlstream.Limits{})
	var v *roomVCard
	if err == nil {
		v, err = parseVCard(el, len(raw)+1)
	}
	if err != nil {
		s.opts.Log.Error("muc: stored room vCard unreadable", "room", bare.String(), "err", err)
		return nil, nil
	}
	return v, nil
}

// visible reports whether the room shows itself (disco#info, its vCard)
// to a JID: a locked room is not there yet for anyone but its owners
// (§10.1.1).
func (rm *room) visible(to jid.JID) bool {
	return !rm.locked || rm.affiliation(to) == Owner
}

// vcardIQ serves vcard-temp to the room's bare JID (XEP-0486 §3.2, §3.4).
func (rm *room) vcardIQ(ctx context.Context, st *stanza.Stanza, q *xmlstream.Element) {
	if !rm.visible(st.From) {
		rm.fail(st, stanza.ErrItemNotFound)
		return
	}
	if st.Type == "get" {
		switch {
		case rm.vcard != nil:
			rm.reply(st, rm.vcard.el)
		case rm.affiliation(st.From) == Owner:
			// An owner reads the room's vCard as a user reads their own
			// (XEP-0054 §3.1): none yet is an empty one, which clients
			// fill in and set (slixmpp's XEP-0153 set_avatar does so).
			rm.reply(st, xmlstream.New("vCard", NSVCard))
		default:
			// XEP-0054 §3.3: a missing vCard of another entity is an error.
			rm.fail(st, stanza.ErrItemNotFound.WithText("the room has no vCard"))
		}
		return
	}
	if rm.affiliation(st.From) != Owner {
		rm.fail(st, stanza.ErrForbidden.WithText("only owners may set the room's vCard"))
		return
	}
	v, err := parseVCard(q, rm.svc.opts.MaxVCardSize)
	if err != nil {
		rm.fail(st, stanzaError(err))
		return
	}
	if rm.stored() {
		var raw []byte
		if v != nil {
			raw = v.raw
		}
		if err := rm.svc.opts.Rooms.SetRoomVCard(ctx, rm.jid.String(), raw); err != nil {
			rm.svc.opts.Log.Error("muc: store room vCard", "room", rm.jid.String(), "err", err)
			rm.fail(st, stanza.ErrInternalServerError)
			return
		}
	}
	old := rm.vcard
	rm.vcard = v
	rm.reply(st)
	if old == nil && v == nil {
		return
	}
	if old.photoHash() != v.photoHash() {
		rm.sendAvatar(rm.allSessions()...)
	}
	// XEP-0486 §3.2: occupants learn that the room changed (status 104)
	// and may read its info and vCard again.
	rm.notifyConfigChange([]string{codeConfigChange})
}

// sendAvatar sends the room's photo hash in a presence from the room
// (XEP-0153 §3.1) to sessions; an empty <photo/> when the avatar went.
// It is sent on join only when there is an avatar.
func (rm *room) sendAvatar(to ...jid.JID) {
	if len(to) == 0 {
		return
	}
	x := xmlstream.New("x", NSVCardUpdate).Add(xmlstream.NewText("photo", NSVCardUpdate, rm.vcard.photoHash()))
	rm.send(build(stanza.Presence, rm.jid, "", "", x), to...)
}

// allSessions lists the sessions of every occupant.
func (rm *room) allSessions() []jid.JID {
	var out []jid.JID
	for _, o := range rm.occupants {
		out = append(out, o.sessions...)
	}
	slices.SortFunc(out, func(a, b jid.JID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// persistVCard writes the vCard of a room that has just become
// persistent.
func (rm *room) persistVCard(ctx context.Context) {
	if !rm.stored() || rm.vcard == nil {
		return
	}
	if err := rm.svc.opts.Rooms.SetRoomVCard(ctx, rm.jid.String(), rm.vcard.raw); err != nil {
		rm.svc.opts.Log.Error("muc: store room vCard", "room", rm.jid.String(), "err", err)
	}
}
