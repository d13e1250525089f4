package muc

import (
	"time"

	"parley/internal/dataform"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// NSRequest is the FORM_TYPE of voice requests and their approval
// (§7.13, §8.6).
const NSRequest = NS + "#request"

// Fields of the muc#request form (§15.5.2).
const (
	fReqRole  = "muc#role"
	fReqJID   = "muc#jid"
	fReqNick  = "muc#roomnick"
	fReqAllow = "muc#request_allow"
)

// voiceForm is a submitted muc#request form: a visitor's request (the
// role alone, §7.13) or a moderator's answer to one (§8.6), which carries
// muc#request_allow and names the requester.
type voiceForm struct {
	answer    bool // a moderator's decision, not a request
	allow     bool
	jid, nick string
}

// parseVoiceForm reads a submitted muc#request form. Anything that is not
// one is a bad request (§7.13 defines no other error for it).
func parseVoiceForm(x *xmlstream.Element) (voiceForm, *stanza.Error) {
	var v voiceForm
	f, serr := readSubmission(x, NSRequest, false)
	if serr != nil {
		return v, serr
	}
	role, err := f.Value(fReqRole)
	if err != nil {
		return v, stanzaError(err)
	}
	// The request names the role; an answer may leave it out, but if it
	// names one it is the only role a visitor can ask for.
	if (role != "" || !f.Has(fReqAllow)) && role != string(Participant) {
		return v, stanza.ErrBadRequest.WithText("muc#role must be participant")
	}
	if !f.Has(fReqAllow) {
		return v, nil
	}
	v.answer = true
	if v.allow, err = f.Bool(fReqAllow); err != nil {
		return v, stanzaError(err)
	}
	if v.jid, err = f.Value(fReqJID); err != nil {
		return v, stanzaError(err)
	}
	if v.nick, err = f.Value(fReqNick); err != nil {
		return v, stanzaError(err)
	}
	if v.nick == "" {
		return v, stanza.ErrBadRequest.WithText("the answer does not name the occupant (muc#roomnick)")
	}
	return v, nil
}

// approvalForm is the form a room sends moderators for a voice request
// (§8.6).
func approvalForm(full, nick string, allow bool) *xmlstream.Element {
	f := dataform.New(dataform.TypeForm, NSRequest,
		dataform.NewField(fReqRole, dataform.TextSingle, "Requested role", string(Participant)),
		dataform.NewField(fReqJID, dataform.JIDSingle, "User ID", full),
		dataform.NewField(fReqNick, dataform.TextSingle, "Room Nickname", nick),
		dataform.NewField(fReqAllow, dataform.Boolean, "Grant voice to this person?", dataform.BoolValue(allow)),
	)
	f.Title = "Voice request"
	f.Instructions = []string{"To grant voice to this visitor, check the box and submit; to skip the request, cancel."}
	return f.Element()
}

// voice handles a muc#request form sent to the room in a message: a
// request from a visitor or a moderator's answer. The caller holds rm.mu.
func (rm *room) voice(st *stanza.Stanza, x *xmlstream.Element) {
	if x.Get("type") == "cancel" {
		return // a moderator skipping a request (§8.6): nothing to do
	}
	v, err := parseVoiceForm(x)
	if err != nil {
		rm.fail(st, err)
		return
	}
	o := rm.byReal[st.From]
	if o == nil {
		rm.fail(st, stanza.ErrNotAcceptable.WithText("only occupants may request or grant voice"))
		return
	}
	if v.answer {
		rm.answerVoice(st, o, v)
	} else {
		rm.requestVoice(st, o)
	}
}

// requestVoice forwards a visitor's request to every moderator present
// (§7.13, §8.6).
func (rm *room) requestVoice(st *stanza.Stanza, o *occupant) {
	var mods []*occupant
	for _, m := range rm.sortedOccupants() {
		if m.role == Moderator {
			mods = append(mods, m)
		}
	}
	now := rm.svc.now()
	interval := time.Duration(rm.cfg.VoiceRequestInterval) * time.Second
	switch {
	case rm.cfg.NoVoiceRequests:
		rm.fail(st, stanza.ErrNotAllowed.WithText("this room takes no voice requests"))
		return
	case o.role != Visitor:
		// Only a visitor lacks voice; anyone else has nothing to ask.
		rm.fail(st, stanza.ErrNotAcceptable.WithText("only visitors may request voice"))
		return
	case interval > 0 && now.Sub(rm.voiceAsked[o.bare]) < interval:
		// Type wait: the same request is welcome later.
		rm.fail(st, stanza.ErrResourceConstraint.WithText("wait before requesting voice again"))
		return
	case len(mods) == 0:
		rm.fail(st, stanza.ErrRecipientUnavailable.WithText("no moderator is in the room"))
		return
	}
	if interval > 0 {
		rm.noteVoiceRequest(o.bare, now, interval)
	}
	t := build(stanza.Message, rm.jid, "", stanza.NewID(), approvalForm(st.From.String(), o.nick, false))
	for _, m := range mods {
		rm.sendTo(t, m)
	}
}

// noteVoiceRequest remembers when a user asked, forgetting requests old
// enough not to matter, so the map holds only recent requesters.
func (rm *room) noteVoiceRequest(bare jid.JID, now time.Time, interval time.Duration) {
	if rm.voiceAsked == nil {
		rm.voiceAsked = make(map[jid.JID]time.Time)
	}
	for j, at := range rm.voiceAsked {
		if now.Sub(at) >= interval {
			delete(rm.voiceAsked, j)
		}
	}
	rm.voiceAsked[bare] = now
}

// answerVoice applies a moderator's answer: approval grants voice as in
// §8.3; a denial changes nothing.
func (rm *room) answerVoice(st *stanza.Stanza, mod *occupant, v voiceForm) {
	if mod.role != Moderator {
		rm.fail(st, stanza.ErrForbidden.WithText("only moderators may grant voice"))
		return
	}
	target := rm.holder(v.nick)
	if v.jid != "" {
		j, err := jid.Parse(v.jid)
		if err != nil {
			rm.fail(st, stanza.ErrBadRequest.WithText("bad muc#jid"))
			return
		}
		// A stale form: the nickname now belongs to someone else.
		if target != nil && target.bare != j.Bare() {
			target = nil
		}
	}
	if target == nil {
		rm.fail(st, stanza.ErrItemNotFound.WithText("the requester is no longer in the room"))
		return
	}
	if !v.allow || target.role != Visitor {
		return // denied, or voice was granted meanwhile
	}
	rm.applyRole(change{nick: target.nick, role: Participant}, mod.nick)
}
