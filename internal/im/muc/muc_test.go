package muc

import (
	"strconv"
	"testing"

	"parley/internal/xmlstream"
)

const (
	crone = "crone@example.com/desktop"
	wiz   = "wiz@example.com/laptop"
	hag   = "hag@example.com/phone"
	coven = "coven@" + service
)

// rule is one numbered case: a rule of XEP-0045 (or an extension) acted
// out against a fresh service.
type rule struct {
	name string
	run  func(t *testing.T, h *harness)
}

func runRules(t *testing.T, rules []rule) {
	for i, tc := range rules {
		t.Run(strconv.Itoa(i)+"_"+tc.name, func(t *testing.T) {
			tc.run(t, newHarness(t))
		})
	}
}

// coreRules: entering, presence, messages, leaving.
var coreRules = []rule{
	{"10.1.1_first_join_creates_locked_room", func(t *testing.T, h *harness) {
		got := h.join(crone, "coven", "firstwitch")
		self := last(got, "presence")
		if !hasCodes(self, codeCreated, codeSelf) || self.Get("from") != coven+"/firstwitch" {
			t.Fatalf("self-presence: %s", dump(got))
		}
		if it := item(self); it.Get("affiliation") != "owner" || it.Get("role") != "moderator" {
			t.Fatalf("creator item: %s", self)
		}
		// §10.1.1: locked until configured.
		got = h.join(wiz, "coven", "wizard")
		if c := errorOf(last(got, "presence")); c != "item-not-found" {
			t.Fatalf("join of a locked room: %s", dump(got))
		}
	}},
	{"10.1.2_instant_room_by_empty_submit", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		got := h.join(wiz, "coven", "wizard")
		if !hasCodes(last(got, "presence"), codeSelf) || hasCodes(last(got, "presence"), codeCreated) {
			t.Fatalf("second join: %s", dump(got))
		}
		if find(got, from("presence", coven+"/firstwitch")) == nil {
			t.Fatalf("no presence of the owner for the joiner: %s", dump(got))
		}
		if p := find(h.user(crone).take(), from("presence", coven+"/wizard")); p == nil {
			t.Fatal("owner not told of the new occupant")
		} else if item(p).Get("jid") != wiz {
			t.Fatalf("a moderator sees real JIDs in a semi-anonymous room: %s", p)
		}
	}},
	{"7.2.1_no_nickname_is_jid_malformed", func(t *testing.T, h *harness) {
		got := h.recv(crone, "<presence to='"+coven+"'><x xmlns='"+NS+"'/></presence>")
		if c := errorOf(last(got, "presence")); c != "jid-malformed" {
			t.Fatalf("got %s", dump(got))
		}
	}},
	{"7.2.3_join_order_and_semi_anonymity", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.join(wiz, "coven", "wizard")
		got := h.join(hag, "coven", "hag")
		// Others' presence, then self-presence, then the subject last.
		if len(got) < 4 || got[0].Get("from") != coven+"/firstwitch" || got[1].Get("from") != coven+"/wizard" ||
			!hasCodes(got[2], codeSelf) || got[3].Child("subject", "") == nil {
			t.Fatalf("join sequence: %s", dump(got))
		}
		if item(got[0]).Get("jid") != "" {
			t.Fatalf("a participant sees a real JID in a semi-anonymous room: %s", got[0])
		}
		if p := find(h.user(wiz).take(), from("presence", coven+"/hag")); p == nil || item(p).Get("jid") != "" {
			t.Fatalf("participant's view of the newcomer: %v", p)
		}
		if item(got[2]).Get("jid") != hag {
			t.Fatalf("self-presence lacks own jid: %s", got[2])
		}
		if got[0].Child("occupant-id", NSOccupantID) == nil {
			t.Fatalf("presence without occupant-id: %s", got[0])
		}
	}},
	{"7.2.3_non_anonymous_100_and_logged_170", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.configure(crone, "coven", "whois=anyone", "enablelogging=1")
		got := h.join(wiz, "coven", "wizard")
		if !hasCodes(last(got, "presence"), codeNonAnonymous, codeLogged, codeSelf) {
			t.Fatalf("self-presence: %s", dump(got))
		}
		if item(find(got, from("presence", coven+"/firstwitch"))).Get("jid") != crone {
			t.Fatalf("real JIDs hidden in a non-anonymous room: %s", dump(got))
		}
	}},
	{"7.2.2_normalised_nick_210", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		got := h.join(wiz, "coven", "Ｗizard") // fullwidth W, mapped by PRECIS
		self := last(got, "presence")
		if !hasCodes(self, codeNickFixed, codeSelf) || self.Get("from") != coven+"/Wizard" {
			t.Fatalf("self-presence: %s", dump(got))
		}
	}},
	{"7.2.9_nick_conflict", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		for _, nick := range []string{"firstwitch", "FirstWitch"} { // RFC 8266 §2.4
			got := h.join(wiz, "coven", nick)
			if c := errorOf(last(got, "presence")); c != "conflict" {
				t.Fatalf("%s: got %s", nick, dump(got))
			}
		}
	}},
	{"7.2_second_session_same_nick", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		got := h.join("crone@example.com/phone", "coven", "firstwitch")
		if !hasCodes(last(got, "presence"), codeSelf) {
			t.Fatalf("second session: %s", dump(got))
		}
		h.user(crone).take()
		h.join(wiz, "coven", "wizard")
		h.send(wiz, "<message type='groupchat' to='"+coven+"'><body>both</body></message>")
		for _, s := range []string{crone, "crone@example.com/phone"} {
			if find(h.user(s).take(), body("both")) == nil {
				t.Fatalf("session %s did not get the message", s)
			}
		}
		// One session leaving does not take the occupant out.
		h.send("crone@example.com/phone", "<presence type='unavailable' to='"+coven+"/firstwitch'/>")
		if p := find(h.user(wiz).take(), from("presence", coven+"/firstwitch")); p != nil {
			t.Fatalf("others saw one of two sessions leave: %s", p)
		}
	}},
	{"7.4_groupchat_broadcast_with_ids", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.join(wiz, "coven", "wizard")
		h.user(crone).take()
		h.send(wiz, "<message type='groupchat' id='m1' to='"+coven+"'><body>Harpier cries</body></message>")
		var sids []string
		for _, s := range []string{crone, wiz} {
			m := find(h.user(s).take(), body("Harpier cries"))
			if m == nil || m.Get("from") != coven+"/wizard" || m.Get("type") != "groupchat" || m.Get("id") != "m1" || m.Get("to") != s {
				t.Fatalf("%s got %v", s, m)
			}
			var roomSID *xmlstream.Element
			for _, c := range m.Children {
				if c.Name == "stanza-id" && c.Get("by") == coven {
					roomSID = c
				}
			}
			if roomSID == nil || m.Child("occupant-id", NSOccupantID) == nil {
				t.Fatalf("no room stanza-id or occupant-id: %s", m)
			}
			sids = append(sids, roomSID.Get("id"))
		}
		if sids[0] != sids[1] {
			t.Fatalf("occupants got different room stanza ids %v", sids)
		}
	}},
	{"7.4_non_occupant_not_acceptable", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		got := h.recv(wiz, "<message type='groupchat' to='"+coven+"'><body>hi</body></message>")
		if c := errorOf(last(got, "message")); c != "not-acceptable" {
			t.Fatalf("got %s", dump(got))
		}
		if find(h.user(crone).take(), body("hi")) != nil {
			t.Fatal("a non-occupant's message was broadcast")
		}
	}},
	{"xep0359_0421_forged_ids_stripped", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.join(wiz, "coven", "wizard")
		h.user(crone).take()
		h.send(wiz, "<message type='groupchat' to='"+coven+"'><body>forged</body>"+
			"<stanza-id xmlns='urn:xmpp:sid:0' id='fake' by='"+coven+"'/>"+
			"<occupant-id xmlns='urn:xmpp:occupant-id:0' id='someone-else'/></message>")
		m := find(h.user(crone).take(), body("forged"))
		for _, c := range m.Children {
			if c.Get("id") == "fake" || c.Get("id") == "someone-else" {
				t.Fatalf("forged id passed on: %s", m)
			}
		}
	}},
	{"7.2.14_history_on_join", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		for i := range 3 {
			h.send(crone, "<message type='groupchat' to='"+coven+"'><body>m"+strconv.Itoa(i)+"</body></message>")
		}
		got := h.join(wiz, "coven", "wizard")
		hist := all(got, func(el *xmlstream.Element) bool { return el.Child("delay", NSDelay) != nil })
		if len(hist) != 3 || hist[0].ChildText("body", "") != "m0" || hist[0].Child("delay", NSDelay).Get("from") != coven {
			t.Fatalf("history: %s", dump(got))
		}
		for _, tc := range []struct {
			attrs string
			want  int
		}{{"maxstanzas='1'", 1}, {"maxstanzas='0'", 0}, {"maxchars='0'", 0}, {"seconds='3600'", 3},
			{"since='2999-01-01T00:00:00Z'", 0}, {"maxstanzas='bogus'", 3}} {
			got := h.recv(hag, "<presence to='"+coven+"/hag'><x xmlns='"+NS+"'><history "+tc.attrs+"/></x></presence>")
			n := len(all(got, func(el *xmlstream.Element) bool { return el.Child("delay", NSDelay) != nil }))
			if n != tc.want {
				t.Errorf("history %s: %d messages, want %d", tc.attrs, n, tc.want)
			}
			h.send(hag, "<presence type='unavailable' to='"+coven+"/hag'/>")
		}
		// History comes before the subject, the subject last (§7.2.15).
		if last(got, "message").Child("subject", "") == nil {
			t.Fatalf("subject is not last: %s", dump(got))
		}
	}},
	{"8.1_subject", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.join(wiz, "coven", "wizard")
		got := h.recv(wiz, "<message type='groupchat' to='"+coven+"'><subject>mine</subject></message>")
		if c := errorOf(last(got, "message")); c != "forbidden" {
			t.Fatalf("participant changed the subject: %s", dump(got))
		}
		h.send(crone, "<message type='groupchat' to='"+coven+"'><subject>Fire Burn</subject></message>")
		if m := last(h.user(wiz).take(), "message"); m.ChildText("subject", "") != "Fire Burn" {
			t.Fatalf("subject not broadcast: %v", m)
		}
		got = h.join(hag, "coven", "hag")
		if m := last(got, "message"); m.ChildText("subject", "") != "Fire Burn" || m.Get("from") != coven+"/firstwitch" {
			t.Fatalf("subject on join: %s", dump(got))
		}
	}},
	{"7.5_private_messages", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.join(wiz, "coven", "wizard")
		h.send(wiz, "<message type='chat' to='"+coven+"/firstwitch'><body>psst</body></message>")
		m := find(h.user(crone).take(), body("psst"))
		if m == nil || m.Get("from") != coven+"/wizard" || m.Child("x", NSUser) == nil {
			t.Fatalf("private message: %v", m)
		}
		for i, tc := range []struct{ xml, want string }{
			{"<message type='chat' to='" + coven + "/nobody'><body>x</body></message>", "item-not-found"},
			{"<message type='groupchat' to='" + coven + "/firstwitch'><body>x</body></message>", "bad-request"},
		} {
			if c := errorOf(last(h.recv(wiz, tc.xml), "message")); c != tc.want {
				t.Errorf("%d: %q, want %s", i, c, tc.want)
			}
		}
		if c := errorOf(last(h.recv(hag, "<message type='chat' to='"+coven+"/wizard'><body>x</body></message>"), "message")); c != "not-acceptable" {
			t.Errorf("non-occupant PM: %q", c)
		}
	}},
	{"7.6_nick_change", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.join(wiz, "coven", "wizard")
		h.join(hag, "coven", "hag")
		h.user(crone).take()
		got := h.recv(wiz, "<presence to='"+coven+"/oldhag'/>")
		if len(got) != 2 || got[0].Get("type") != "unavailable" || !hasCodes(got[0], codeNewNick, codeSelf) ||
			item(got[0]).Get("nick") != "oldhag" || got[1].Get("from") != coven+"/oldhag" || !hasCodes(got[1], codeSelf) {
			t.Fatalf("nick change, self: %s", dump(got))
		}
		others := h.user(crone).take()
		if len(others) != 2 || !hasCodes(others[0], codeNewNick) || hasCodes(others[0], codeSelf) {
			t.Fatalf("nick change, others: %s", dump(others))
		}
		if c := errorOf(last(h.recv(wiz, "<presence to='"+coven+"/hag'/>"), "presence")); c != "conflict" {
			t.Fatalf("changing to a taken nick: %q", c)
		}
	}},
	{"7.14_leave_and_temporary_room_goes", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.join(wiz, "coven", "wizard")
		h.user(crone).take()
		got := h.recv(wiz, "<presence type='unavailable' to='"+coven+"/wizard'><status>bye</status></presence>")
		if p := last(got, "presence"); p.Get("type") != "unavailable" || !hasCodes(p, codeSelf) || item(p).Get("role") != "none" {
			t.Fatalf("leaving: %s", dump(got))
		}
		if p := last(h.user(crone).take(), "presence"); p == nil || p.Get("type") != "unavailable" || p.ChildText("status", "") != "bye" {
			t.Fatalf("others on leave: %v", p)
		}
		h.send(crone, "<presence type='unavailable' to='"+coven+"/firstwitch'/>")
		got = h.join(wiz, "coven", "wizard")
		if !hasCodes(last(got, "presence"), codeCreated) {
			t.Fatalf("an emptied temporary room still exists: %s", dump(got))
		}
	}},
	{"7.14_leave_to_the_bare_room_jid", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.join(wiz, "coven", "wizard")
		h.user(crone).take()
		got := h.recv(wiz, "<presence type='unavailable' to='"+coven+"'/>")
		if p := last(got, "presence"); p == nil || p.Get("type") != "unavailable" || !hasCodes(p, codeSelf) ||
			p.Get("from") != coven+"/wizard" || item(p).Get("role") != "none" {
			t.Fatalf("leaving by the bare JID: %s", dump(got))
		}
		if p := last(h.user(crone).take(), "presence"); p == nil || p.Get("type") != "unavailable" || p.Get("from") != coven+"/wizard" {
			t.Fatalf("others on leave: %v", p)
		}
		// Someone not in the room who sends the same is ignored.
		if got := h.recv(hag, "<presence type='unavailable' to='"+coven+"'/>"); len(got) != 0 {
			t.Fatalf("a non-occupant's exit was answered: %s", dump(got))
		}
	}},
	{"7.2.6_password", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.configure(crone, "coven", "passwordprotectedroom=1", "roomsecret=cauldronburn")
		if c := errorOf(last(h.join(wiz, "coven", "wizard"), "presence")); c != "not-authorized" {
			t.Fatalf("no password: %q", c)
		}
		got := h.recv(wiz, "<presence to='"+coven+"/wizard'><x xmlns='"+NS+"'><password>nope</password></x></presence>")
		if c := errorOf(last(got, "presence")); c != "not-authorized" {
			t.Fatalf("wrong password: %q", c)
		}
		got = h.recv(wiz, "<presence to='"+coven+"/wizard'><x xmlns='"+NS+"'><password>cauldronburn</password></x></presence>")
		if !hasCodes(last(got, "presence"), codeSelf) {
			t.Fatalf("right password: %s", dump(got))
		}
	}},
	{"7.2.7_members_only", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.configure(crone, "coven", "membersonly=1")
		if c := errorOf(last(h.join(wiz, "coven", "wizard"), "presence")); c != "registration-required" {
			t.Fatalf("non-member: %q", c)
		}
		got := h.recv(crone, "<iq type='set' id='a1' to='"+coven+"'><query xmlns='"+NSAdmin+"'><item affiliation='member' jid='wiz@example.com'/></query></iq>")
		if last(got, "iq").Get("type") != "result" {
			t.Fatalf("adding a member: %s", dump(got))
		}
		if !hasCodes(last(h.join(wiz, "coven", "wizard"), "presence"), codeSelf) {
			t.Fatal("a member could not enter")
		}
		got = h.recv(crone, "<iq type='get' id='l1' to='"+coven+"'><query xmlns='"+NSAdmin+"'><item affiliation='member'/></query></iq>")
		if it := item(nil); it != nil || last(got, "iq").Child("query", NSAdmin).Child("item", NSAdmin).Get("jid") != "wiz@example.com" {
			t.Fatalf("member list: %s", dump(got))
		}
	}},
	{"7.2.10_max_users", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.configure(crone, "coven", "maxusers=2")
		h.join(wiz, "coven", "wizard")
		got := h.join(hag, "coven", "hag")
		if c := errorOf(last(got, "presence")); c != "service-unavailable" {
			t.Fatalf("full room: %s", dump(got))
		}
	}},
	{"7.2.14_history_excludes_nothing_after_restart_of_join", func(t *testing.T, h *harness) {
		// A rejoin (join presence from a present session, XEP-0410 §4)
		// gets the occupant list and self-presence again.
		h.create(crone, "coven", "firstwitch")
		h.join(wiz, "coven", "wizard")
		got := h.join(wiz, "coven", "wizard")
		if find(got, from("presence", coven+"/firstwitch")) == nil || !hasCodes(last(got, "presence"), codeSelf) {
			t.Fatalf("rejoin: %s", dump(got))
		}
	}},
	{"error_presence_kicks_with_307_333", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.join(wiz, "coven", "wizard")
		second := "wiz@example.com/phone"
		h.join(second, "coven", "wizard")
		h.user(crone).take()
		errPresence := "<presence type='error' to='" + coven + "/firstwitch'><error type='cancel'>" +
			"<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>"
		// One of two sessions fails: it alone is told, the occupant stays.
		got := h.recv(second, errPresence)
		if p := last(got, "presence"); p == nil || p.Get("type") != "unavailable" || !hasCodes(p, codeSelf, codeKicked, codeError) {
			t.Fatalf("failed session: %s", dump(got))
		}
		if got := h.user(crone).take(); len(got) != 0 {
			t.Fatalf("others told of one session of several: %s", dump(got))
		}
		// Its last session fails: everyone sees the occupant kicked.
		got = h.recv(wiz, errPresence)
		if p := last(got, "presence"); p == nil || p.Get("type") != "unavailable" || !hasCodes(p, codeSelf, codeKicked, codeError) {
			t.Fatalf("failed last session: %s", dump(got))
		}
		p := last(h.user(crone).take(), "presence")
		if p == nil || p.Get("from") != coven+"/wizard" || p.Get("type") != "unavailable" ||
			!hasCodes(p, codeKicked, codeError) || hasCodes(p, codeSelf) || item(p).Get("role") != "none" {
			t.Fatalf("others: %v", p)
		}
	}},
	{"ghost_removed_on_error_333", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.join(wiz, "coven", "wizard")
		h.user(crone).take()
		h.r.Unbind(t.Context(), h.user(wiz)) // gone without a word; presence tells the room
		delete(h.users, wiz)
		got := h.user(crone).take()
		if p := last(got, "presence"); p == nil || p.Get("type") != "unavailable" || p.Get("from") != coven+"/wizard" {
			t.Fatalf("session end: %s", dump(got))
		}
		// A ghost that missed its unavailable (its join bypassed the
		// presence module): messages bounce, and the room removes it
		// with 333.
		h.user(hag)
		h.sendDirect(hag, "<presence to='"+coven+"/hag'><x xmlns='"+NS+"'/></presence>")
		h.r.Unbind(t.Context(), h.user(hag))
		h.user(crone).take()
		h.send(crone, "<message type='groupchat' to='"+coven+"'><body>anyone?</body></message>")
		if p := last(h.user(crone).take(), "presence"); p == nil || p.Get("from") != coven+"/hag" ||
			p.Get("type") != "unavailable" || !hasCodes(p, codeError) {
			t.Fatalf("ghost not removed: %v", p)
		}
	}},
}

func TestCore(t *testing.T) { runRules(t, coreRules) }
