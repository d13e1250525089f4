package muc

import (
	"slices"
	"testing"

	"parley/internal/xmlstream"
)

func features(q *xmlstream.Element) []string {
	var out []string
	for _, c := range q.Children {
		if c.Name == "feature" {
			out = append(out, c.Get("var"))
		}
	}
	return out
}

var extensionRules = []rule{
	{"6.1_service_disco_info", func(t *testing.T, h *harness) {
		got := h.recv(wiz, "<iq type='get' id='i' to='"+service+"'><query xmlns='"+NSDiscoInfo+"'/></iq>")
		q := last(got, "iq").Child("query", NSDiscoInfo)
		id := q.Child("identity", NSDiscoInfo)
		if id.Get("category") != "conference" || id.Get("type") != "text" || !slices.Contains(features(q), NS) {
			t.Fatalf("service info: %s", dump(got))
		}
	}},
	{"6.3_hidden_rooms_not_listed", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.configure(crone, "coven", "publicroom=0")
		h.create(crone, "open", "firstwitch")
		got := h.recv(wiz, "<iq type='get' id='i' to='"+service+"'><query xmlns='"+NSDiscoItems+"'/></iq>")
		q := last(got, "iq").Child("query", NSDiscoItems)
		if len(q.Children) != 1 || q.Children[0].Get("jid") != "open@"+service {
			t.Fatalf("items: %s", dump(got))
		}
	}},
	{"6.4_room_disco_info", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.configure(crone, "coven", "roomname=The Coven", "membersonly=1", "roomdesc=witches")
		got := h.recv(wiz, "<iq type='get' id='i' to='"+coven+"'><query xmlns='"+NSDiscoInfo+"'/></iq>")
		q := last(got, "iq").Child("query", NSDiscoInfo)
		f := features(q)
		for _, want := range []string{NS, "muc_membersonly", "muc_public", "muc_temporary", "muc_semianonymous",
			"muc_unmoderated", "muc_unsecured", NSStanzaID, NSOccupantID, NSModerate, NSModerate0} {
			if !slices.Contains(f, want) {
				t.Errorf("feature %s missing: %v", want, f)
			}
		}
		if q.Child("identity", NSDiscoInfo).Get("name") != "The Coven" || q.Child("x", NSData) == nil {
			t.Fatalf("room info: %s", dump(got))
		}
	}},
	{"xep0410_self_ping", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		ping := "<iq type='get' id='p' to='" + coven + "/firstwitch'><ping xmlns='urn:xmpp:ping'/></iq>"
		if c := iqError(h.recv(crone, ping), "p"); c != "result" {
			t.Fatalf("occupant self-ping: %s", c)
		}
		if c := iqError(h.recv(wiz, ping), "p"); c != "not-acceptable" {
			t.Fatalf("non-occupant ping: %s", c)
		}
		if c := iqError(h.recv(crone, "<iq type='get' id='p' to='"+coven+"/ghost'><ping xmlns='urn:xmpp:ping'/></iq>"), "p"); c != "item-not-found" {
			t.Fatalf("ping to an absent nick: %s", c)
		}
	}},
	{"xep0421_occupant_id_stable", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		oid := func(full, nick string) string {
			got := h.join(full, "coven", nick)
			return find(got, func(el *xmlstream.Element) bool { return hasCodes(el, codeSelf) }).Child("occupant-id", NSOccupantID).Get("id")
		}
		a := oid(wiz, "wizard")
		h.send(wiz, "<presence type='unavailable' to='"+coven+"/wizard'/>")
		b := oid("wiz@example.com/other", "warlock")
		c := oid(hag, "hag")
		if a != b || a == c || a == "" {
			t.Fatalf("occupant ids: wiz %q then %q, hag %q", a, b, c)
		}
	}},
	{"xep0425_moderation", func(t *testing.T, h *harness) {
		threeWitches(h)
		h.send(wiz, "<message type='groupchat' to='"+coven+"'><body>rude</body></message>")
		m := find(h.user(hag).take(), body("rude"))
		var sid string
		for _, c := range m.Children {
			if c.Name == "stanza-id" && c.Get("by") == coven {
				sid = c.Get("id")
			}
		}
		mod := func(id string) string {
			return "<iq type='set' id='m' to='" + coven + "'><moderate xmlns='" + NSModerate + "' id='" + id +
				"'><retract xmlns='" + NSRetract + "'/><reason>spam</reason></moderate></iq>"
		}
		if c := iqError(h.recv(hag, mod(sid)), "m"); c != "forbidden" {
			t.Fatalf("participant moderates: %s", c)
		}
		if c := iqError(h.recv(crone, mod("nope")), "m"); c != "item-not-found" {
			t.Fatalf("unknown id: %s", c)
		}
		if c := iqError(h.recv(crone, mod(sid)), "m"); c != "result" {
			t.Fatalf("moderate: %s", c)
		}
		r := last(h.user(hag).take(), "message")
		re := r.Child("retract", NSRetract)
		if r.Get("from") != coven || re == nil || re.Get("id") != sid || re.ChildText("reason", NSRetract) != "spam" ||
			re.Child("moderated", NSModerate).Get("by") != coven+"/firstwitch" {
			t.Fatalf("retraction: %v", r)
		}
		got := h.join("late@example.com/x", "coven", "late")
		if find(got, body("rude")) != nil {
			t.Fatal("moderated message still in history")
		}
	}},
	{"xep0425_v0.2_request", func(t *testing.T, h *harness) {
		threeWitches(h)
		h.send(wiz, "<message type='groupchat' to='"+coven+"'><body>rude</body></message>")
		m := find(h.user(hag).take(), body("rude"))
		sid := m.Child("stanza-id", NSStanzaID).Get("id")
		mod := func(id, inner string) string {
			return "<iq type='set' id='m' to='" + coven + "'><apply-to xmlns='" + NSFasten + "' id='" + id +
				"'><moderate xmlns='" + NSModerate0 + "'>" + inner + "</moderate></apply-to></iq>"
		}
		retract := "<retract xmlns='" + NSRetract0 + "'/>"
		for i, tc := range []struct{ who, id, inner, want string }{
			{hag, sid, retract, "forbidden"},
			{crone, sid, "<reason>no retract</reason>", "bad-request"},
			{crone, "nope", retract, "item-not-found"},
			{crone, sid, retract, "result"},
		} {
			if c := iqError(h.recv(tc.who, mod(tc.id, tc.inner)), "m"); c != tc.want {
				t.Fatalf("%d: got %s, want %s", i, c, tc.want)
			}
		}
		r := last(h.user(hag).take(), "message")
		old := r.Child("apply-to", NSFasten)
		if old == nil || old.Get("id") != sid || old.Child("moderated", NSModerate0).Get("by") != coven+"/firstwitch" ||
			r.Child("retract", NSRetract).Get("id") != sid {
			t.Fatalf("retraction in both forms: %v", r)
		}
		// A request in the current form is answered in the current form only.
		h.send(wiz, "<message type='groupchat' to='"+coven+"'><body>again</body></message>")
		sid = find(h.user(hag).take(), body("again")).Child("stanza-id", NSStanzaID).Get("id")
		h.send(crone, "<iq type='set' id='m1' to='"+coven+"'><moderate xmlns='"+NSModerate+"' id='"+sid+
			"'><retract xmlns='"+NSRetract+"'/></moderate></iq>")
		if r := last(h.user(hag).take(), "message"); r.Child("retract", NSRetract) == nil || r.Child("apply-to", NSFasten) != nil {
			t.Fatalf("v1 retraction: %v", r)
		}
	}},
	{"7.8.2_mediated_invitation_and_decline", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.configure(crone, "coven", "membersonly=1")
		h.user(wiz)
		h.send(crone, "<message to='"+coven+"'><x xmlns='"+NSUser+"'><invite to='wiz@example.com/laptop'><reason>Join us</reason></invite></x></message>")
		m := last(h.user(wiz).take(), "message")
		inv := m.Child("x", NSUser).Child("invite", NSUser)
		if m.Get("from") != coven || inv.Get("from") != crone || inv.ChildText("reason", NSUser) != "Join us" {
			t.Fatalf("invitation: %v", m)
		}
		// An admin's invitation to a members-only room makes a member.
		if !hasCodes(last(h.join(wiz, "coven", "wizard"), "presence"), codeSelf) {
			t.Fatal("invitee could not enter the members-only room")
		}
		h.send(hag, "<message to='"+coven+"'><x xmlns='"+NSUser+"'><decline to='"+crone+"'><reason>busy</reason></decline></x></message>")
		d := last(h.user(crone).take(), "message").Child("x", NSUser).Child("decline", NSUser)
		if d == nil || d.Get("from") != "hag@example.com" || d.ChildText("reason", NSUser) != "busy" {
			t.Fatalf("decline: %v", d)
		}
		if c := errorOf(last(h.recv(hag, "<message to='"+coven+"'><x xmlns='"+NSUser+"'><invite to='a@example.com'/></x></message>"), "message")); c != "not-acceptable" {
			t.Fatalf("invitation by a non-occupant: %q", c)
		}
	}},
	{"7.5_iq_relayed_between_occupants", func(t *testing.T, h *harness) {
		threeWitches(h)
		h.send(wiz, "<iq type='get' id='v1' to='"+coven+"/firstwitch'><vCard xmlns='vcard-temp'/></iq>")
		req := last(h.user(crone).take(), "iq")
		if req == nil || req.Get("from") != coven+"/wizard" || req.Get("id") == "v1" || req.Child("vCard", "vcard-temp") == nil {
			t.Fatalf("relayed request: %v", req)
		}
		answer := "<iq type='result' id='" + req.Get("id") + "' to='" + coven + "/wizard'><vCard xmlns='vcard-temp'><FN>Crone</FN></vCard></iq>"
		// An answer from anyone but the asked session is dropped.
		h.send(hag, answer)
		if got := h.user(wiz).take(); len(got) != 0 {
			t.Fatalf("forged answer relayed: %s", dump(got))
		}
		h.send(crone, answer)
		res := last(h.user(wiz).take(), "iq")
		if res == nil || res.Get("id") != "v1" || res.Get("type") != "result" || res.Get("from") != coven+"/firstwitch" ||
			res.Child("vCard", "vcard-temp").ChildText("FN", "") != "Crone" {
			t.Fatalf("relayed answer: %v", res)
		}
		h.send(crone, answer) // a second answer to the same id goes nowhere
		if got := h.user(wiz).take(); len(got) != 0 {
			t.Fatalf("answer relayed twice: %s", dump(got))
		}
	}},
	{"7.5_allowpm_none", func(t *testing.T, h *harness) {
		threeWitches(h, "allowpm=none")
		if c := errorOf(last(h.recv(wiz, "<message type='chat' to='"+coven+"/hag'><body>x</body></message>"), "message")); c != "forbidden" {
			t.Fatalf("PM in a room without PMs: %q", c)
		}
	}},
}

func TestExtensions(t *testing.T) { runRules(t, extensionRules) }
