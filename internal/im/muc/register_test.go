package muc

import (
	"strings"
	"testing"

	"parley/internal/xmlstream"
)

func registerIQ(typ, payload string) string {
	return "<iq type='" + typ + "' id='reg' to='" + coven + "'><query xmlns='" + NSIQRegister + "'>" + payload + "</query></iq>"
}

// regForm is a muc#register submission for nick.
func regForm(nick string) string {
	return dataForm("submit", NSRegister, "muc#register_", "roomnick="+nick)
}

// reserved is the nickname disco#info node x-roomuser-item gives full.
func (h *harness) reserved(full string) string {
	h.t.Helper()
	got := h.recv(full, "<iq type='get' id='rn' to='"+coven+"'><query xmlns='"+NSDiscoInfo+"' node='x-roomuser-item'/></iq>")
	r := find(got, isIQ("rn"))
	q := r.Child("query", NSDiscoInfo)
	if r.Get("type") != "result" || q == nil || q.Get("node") != "x-roomuser-item" {
		h.t.Fatalf("reserved nick query: %s", dump(got))
	}
	id := q.Child("identity", NSDiscoInfo)
	if id == nil {
		return ""
	}
	if id.Get("category") != "conference" || id.Get("type") != "text" {
		h.t.Fatalf("reserved nick identity: %s", id)
	}
	return id.Get("name")
}

var registerRules = []rule{
	{"7.10_register_makes_member_with_nick", func(t *testing.T, h *harness) {
		threeWitches(h)
		got := h.recv(hag, registerIQ("get", ""))
		q := last(got, "iq").Child("query", NSIQRegister)
		if q == nil || q.Child("registered", NSIQRegister) != nil || formValue(q, "FORM_TYPE") != NSRegister ||
			!strings.Contains(q.String(), "var='muc#register_roomnick'") || !strings.Contains(q.String(), "<required") {
			t.Fatalf("registration form: %s", dump(got))
		}
		if c := iqError(h.recv(hag, registerIQ("set", regForm("Thirdwitch "))), "reg"); c != "result" {
			t.Fatalf("register: %s", c)
		}
		if p := last(h.user(crone).take(), "presence"); p.Get("from") != coven+"/hag" || item(p).Get("affiliation") != "member" {
			t.Fatalf("occupants told of the membership: %v", p)
		}
		q = last(h.recv(hag, registerIQ("get", "")), "iq").Child("query", NSIQRegister)
		if q.Child("registered", NSIQRegister) == nil || formValue(q, "muc#register_roomnick") != "Thirdwitch" {
			t.Fatalf("registered user's form: %s", q)
		}
		if n := h.reserved(hag); n != "Thirdwitch" {
			t.Fatalf("reserved nick %q", n)
		}
		if n := h.reserved(wiz); n != "" {
			t.Fatalf("unregistered user's reserved nick %q", n)
		}
		got = h.recv(crone, "<iq type='get' id='ml' to='"+coven+"'><query xmlns='"+NSAdmin+"'><item affiliation='member'/></query></iq>")
		if it := last(got, "iq").Child("query", NSAdmin).Child("item", NSAdmin); it == nil || it.Get("nick") != "Thirdwitch" {
			t.Fatalf("member list: %s", dump(got))
		}
		// Registering again changes the nickname; the owner keeps owner.
		if c := iqError(h.recv(hag, registerIQ("set", regForm("hecate"))), "reg"); c != "result" || h.reserved(hag) != "hecate" {
			t.Fatalf("re-register: %s", c)
		}
		if c := iqError(h.recv(crone, registerIQ("set", regForm("firstwitch"))), "reg"); c != "result" {
			t.Fatalf("owner registers: %s", c)
		}
		if p := last(h.join(crone, "coven", "firstwitch"), "presence"); item(p).Get("affiliation") != "owner" {
			t.Fatalf("owner after registering: %v", p)
		}
	}},
	{"5.2_registering_keeps_a_domain_affiliation", func(t *testing.T, h *harness) {
		threeWitches(h)
		if c := iqError(h.recv(crone, adminSet("<item jid='example.com' affiliation='admin'/>")), "ad"); c != "result" {
			t.Fatalf("domain admin: %s", c)
		}
		if c := iqError(h.recv(hag, registerIQ("set", regForm("thirdwitch"))), "reg"); c != "result" {
			t.Fatalf("register: %s", c)
		}
		h.user(hag).take()
		// Still an admin: only admins may read the member list (§9.5).
		got := h.recv(hag, "<iq type='get' id='ml' to='"+coven+"'><query xmlns='"+NSAdmin+"'><item affiliation='member'/></query></iq>")
		if c := iqError(got, "ml"); c != "result" {
			t.Fatalf("a domain admin who registered lost admin: %s", c)
		}
	}},
	{"9.3_admin_reserves_nick_with_membership", func(t *testing.T, h *harness) {
		threeWitches(h)
		set := func(item string) string { return iqError(h.recv(crone, adminSet(item)), "ad") }
		if c := set("<item affiliation='member' jid='banquo@example.com' nick='Banquo'/>"); c != "result" {
			t.Fatalf("grant membership with a nick: %s", c)
		}
		if n := h.reserved("banquo@example.com/castle"); n != "Banquo" {
			t.Fatalf("reserved nick %q", n)
		}
		if c := set("<item affiliation='member' jid='fleance@example.com' nick='banquo'/>"); c != "conflict" {
			t.Fatalf("a nick reserved by another: %s", c)
		}
		if c := set("<item affiliation='member' jid='fleance@example.com' nick=' '/>"); c != "not-acceptable" {
			t.Fatalf("an invalid nick: %s", c)
		}
	}},
	{"7.12_reserved_nick_enforced", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.recv(hag, registerIQ("set", regForm("thirdwitch")))
		for _, nick := range []string{"thirdwitch", "ThirdWitch"} {
			if c := errorOf(last(h.join(wiz, "coven", nick), "presence")); c != "conflict" {
				t.Fatalf("join as %s, reserved by another: %q", nick, c)
			}
		}
		if c := iqError(h.recv(wiz, registerIQ("set", regForm("THIRDWITCH"))), "reg"); c != "conflict" {
			t.Fatalf("registering another's nick: %s", c)
		}
		// Taken by an occupant, not reserved: still not registrable.
		h.join(wiz, "coven", "wizard")
		if c := iqError(h.recv(hag, registerIQ("set", regForm("Wizard"))), "reg"); c != "conflict" {
			t.Fatalf("registering an occupant's nick: %s", c)
		}
		if c := errorOf(last(h.recv(wiz, "<presence to='"+coven+"/thirdwitch'/>"), "presence")); c != "conflict" {
			t.Fatalf("nick change to a reserved nick: %q", c)
		}
		if p := last(h.join(hag, "coven", "thirdwitch"), "presence"); !hasCodes(p, codeSelf) {
			t.Fatalf("owner of the reserved nick joins: %v", p)
		}
	}},
	{"7.10_bad_forms", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		for i, tc := range []struct{ payload, want string }{
			{"", "bad-request"},
			{"<username>hag</username>", "bad-request"},
			{"<x xmlns='jabber:x:data' type='form'/>", "bad-request"},
			{"<x xmlns='jabber:x:data' type='submit'><field var='muc#register_roomnick'><value>a</value></field></x>", "bad-request"},
			{strings.Replace(regForm("a"), NSRegister, NSRoomConfig, 1), "bad-request"},
			{regForm(""), "bad-request"},
			{strings.Replace(regForm("a"), "<value>a</value>", "<value>a</value><value>b</value>", 1), "bad-request"},
			{regForm("   "), "not-acceptable"},
		} {
			if c := iqError(h.recv(hag, registerIQ("set", tc.payload)), "reg"); c != tc.want {
				t.Errorf("%d: %s, want %s", i, c, tc.want)
			}
		}
		if c := iqError(h.recv(hag, registerIQ("set", "<x xmlns='jabber:x:data' type='cancel'/>")), "reg"); c != "result" {
			t.Errorf("cancelled form: %s", c)
		}
		if n := h.reserved(hag); n != "" {
			t.Fatalf("a bad form reserved %q", n)
		}
	}},
	{"7.10_who_may_register", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.recv(crone, adminSet("<item affiliation='outcast' jid='wiz@example.com'/>"))
		for _, typ := range []string{"get", "set"} {
			if c := iqError(h.recv(wiz, registerIQ(typ, regForm("wizard"))), "reg"); c != "forbidden" {
				t.Fatalf("outcast %s: %s", typ, c)
			}
		}
		h.configure(crone, "coven", "membersonly=1")
		if c := iqError(h.recv(hag, registerIQ("get", "")), "reg"); c != "not-allowed" {
			t.Fatalf("non-member of a members-only room: %s", c)
		}
		h.recv(crone, adminSet("<item affiliation='member' jid='hag@example.com'/>"))
		q := last(h.recv(hag, registerIQ("get", "")), "iq").Child("query", NSIQRegister)
		if q == nil || q.Child("registered", NSIQRegister) == nil {
			t.Fatalf("a member is registered: %v", q)
		}
		if c := iqError(h.recv(hag, registerIQ("set", regForm("thirdwitch"))), "reg"); c != "result" {
			t.Fatalf("member reserves a nick: %s", c)
		}
		h.join(crone, "locked", "firstwitch") // not configured yet
		got := h.recv(hag, "<iq type='get' id='reg' to='locked@"+service+"'><query xmlns='"+NSIQRegister+"'/></iq>")
		if c := iqError(got, "reg"); c != "item-not-found" {
			t.Fatalf("locked room: %s", c)
		}
	}},
	{"xep0077_remove_unregisters", func(t *testing.T, h *harness) {
		threeWitches(h, "membersonly=1")
		h.recv(crone, adminSet("<item affiliation='member' jid='hag@example.com'/>"))
		h.join(hag, "coven", "hag")
		h.recv(hag, registerIQ("set", regForm("thirdwitch")))
		if c := iqError(h.recv(hag, registerIQ("set", "<remove/><x xmlns='urn:x'/>")), "reg"); c != "bad-request" {
			t.Fatalf("remove with company: %s", c)
		}
		h.user(crone).take()
		got := h.recv(hag, registerIQ("set", "<remove/>"))
		if iqError(got, "reg") != "result" {
			t.Fatalf("remove: %s", dump(got))
		}
		// §9.4: no longer a member of a members-only room: out, 321.
		if p := last(got, "presence"); !hasCodes(p, codeAffChange, codeSelf) || p.Get("type") != "unavailable" {
			t.Fatalf("unregistered member told: %s", dump(got))
		}
		if p := last(h.user(crone).take(), "presence"); !hasCodes(p, codeAffChange) {
			t.Fatalf("others told: %v", p)
		}
		if c := iqError(h.recv(hag, registerIQ("set", "<remove/>")), "reg"); c != "not-allowed" {
			t.Fatalf("remove by a non-member of a members-only room: %s", c)
		}
		h.configure(crone, "coven", "membersonly=0")
		if c := iqError(h.recv(hag, registerIQ("set", "<remove/>")), "reg"); c != "registration-required" {
			t.Fatalf("remove when not registered: %s", c)
		}
		if c := iqError(h.recv(wiz, registerIQ("set", regForm("thirdwitch"))), "reg"); c != "result" {
			t.Fatalf("the freed nick: %s", c)
		}
		// The owner's registration goes; the owner stays owner.
		h.recv(crone, registerIQ("set", regForm("firstwitch")))
		if c := iqError(h.recv(crone, registerIQ("set", "<remove/>")), "reg"); c != "result" || h.reserved(crone) != "" {
			t.Fatalf("owner unregisters: %s", c)
		}
		if p := last(h.join(crone, "coven", "firstwitch"), "presence"); item(p).Get("affiliation") != "owner" {
			t.Fatalf("owner after unregistering: %v", p)
		}
	}},
	{"9.1_ban_drops_reserved_nick", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.recv(hag, registerIQ("set", regForm("thirdwitch")))
		h.recv(crone, adminSet("<item affiliation='outcast' jid='hag@example.com'/>"))
		if p := last(h.join(wiz, "coven", "thirdwitch"), "presence"); !hasCodes(p, codeSelf) {
			t.Fatalf("the banned user's nick is still reserved: %v", p)
		}
	}},
	{"7.10_registration_survives_restart", func(t *testing.T, h *harness) {
		threeWitches(h, "persistentroom=1")
		h.recv(hag, registerIQ("set", regForm("thirdwitch")))
		h2 := newHarnessOn(t, h.st)
		if n := h2.reserved(hag); n != "thirdwitch" {
			t.Fatalf("reserved nick after restart: %q", n)
		}
		if c := errorOf(last(h2.join(wiz, "coven", "thirdwitch"), "presence")); c != "conflict" {
			t.Fatalf("reservation lost: %q", c)
		}
		self := find(h2.join(hag, "coven", "thirdwitch"), func(el *xmlstream.Element) bool { return hasCodes(el, codeSelf) })
		if item(self).Get("affiliation") != "member" {
			t.Fatalf("membership lost: %v", self)
		}
	}},
	{"6.4_room_advertises_registration", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		q := h.disco(wiz).Child("query", NSDiscoInfo)
		if !hasFeature(q, NSIQRegister) || !hasFeature(q, NSRegister) {
			t.Fatalf("features: %s", q)
		}
		got := h.recv(wiz, "<iq type='get' id='n' to='"+coven+"'><query xmlns='"+NSDiscoInfo+"' node='other'/></iq>")
		if c := iqError(got, "n"); c != "item-not-found" {
			t.Fatalf("unknown node: %s", c)
		}
	}},
}

func TestRegistration(t *testing.T) { runRules(t, registerRules) }
