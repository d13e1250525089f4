package muc

import (
	"context"
	"strings"
	"testing"

	"parley/internal/jid"
	"parley/internal/xmlstream"
)

func adminSet(items string) string {
	return "<iq type='set' id='ad' to='" + coven + "'><query xmlns='" + NSAdmin + "'>" + items + "</query></iq>"
}

// wantAdmin has full send an admin request with items and checks the
// answer's error condition, or "result"; what names the step.
func (h *harness) wantAdmin(t *testing.T, full, items, want, what string) {
	t.Helper()
	if c := iqError(h.recv(full, adminSet(items)), "ad"); c != want {
		t.Fatalf("%s: %s, want %s", what, c, want)
	}
}

// iqError returns the error condition of the answer to IQ id, or
// "result".
func iqError(got []*xmlstream.Element, id string) string {
	r := find(got, isIQ(id))
	if r == nil {
		return "(no answer)"
	}
	if r.Get("type") == "result" {
		return "result"
	}
	return errorOf(r)
}

// threeWitches: crone owns coven (instant room), wiz and hag are in.
func threeWitches(h *harness, fields ...string) {
	h.create(crone, "coven", "firstwitch")
	if len(fields) > 0 {
		h.configure(crone, "coven", fields...)
	}
	h.join(wiz, "coven", "wizard")
	h.join(hag, "coven", "hag")
	for _, u := range []string{crone, wiz, hag} {
		h.user(u).take()
	}
}

var adminRules = []rule{
	{"8.2_kick_307", func(t *testing.T, h *harness) {
		threeWitches(h)
		got := h.recv(crone, adminSet("<item nick='wizard' role='none'><reason>Avaunt</reason></item>"))
		if iqError(got, "ad") != "result" {
			t.Fatalf("kick: %s", dump(got))
		}
		p := last(h.user(wiz).take(), "presence")
		if !hasCodes(p, codeKicked, codeSelf) || item(p).ChildText("reason", NSUser) != "Avaunt" ||
			item(p).Child("actor", NSUser).Get("nick") != "firstwitch" {
			t.Fatalf("kicked occupant told: %v", p)
		}
		if p := last(h.user(hag).take(), "presence"); !hasCodes(p, codeKicked) || p.Get("type") != "unavailable" {
			t.Fatalf("others told: %v", p)
		}
		if c := errorOf(last(h.recv(wiz, "<message type='groupchat' to='"+coven+"'><body>x</body></message>"), "message")); c != "not-acceptable" {
			t.Fatalf("kicked occupant still speaks: %q", c)
		}
	}},
	{"8.2_kick_permissions", func(t *testing.T, h *harness) {
		threeWitches(h)
		h.wantAdmin(t, wiz, "<item nick='hag' role='none'/>", "forbidden", "participant kicks")
		// Make wiz a moderator (by role): still cannot kick the owner.
		h.wantAdmin(t, crone, "<item nick='wizard' role='moderator'/>", "result", "grant moderator")
		h.wantAdmin(t, wiz, "<item nick='firstwitch' role='none'/>", "not-allowed", "moderator kicks owner")
		h.wantAdmin(t, wiz, "<item nick='nobody' role='none'/>", "item-not-found", "kick of an absent nick")
	}},
	{"9.1_ban_301", func(t *testing.T, h *harness) {
		threeWitches(h)
		got := h.recv(crone, adminSet("<item affiliation='outcast' jid='wiz@example.com'><reason>Treason</reason></item>"))
		if iqError(got, "ad") != "result" {
			t.Fatalf("ban: %s", dump(got))
		}
		if p := last(h.user(wiz).take(), "presence"); !hasCodes(p, codeBanned, codeSelf) || item(p).Get("affiliation") != "outcast" {
			t.Fatalf("banned occupant told: %v", p)
		}
		if c := errorOf(last(h.join(wiz, "coven", "wizard"), "presence")); c != "forbidden" {
			t.Fatalf("banned user rejoins: %q", c)
		}
		got = h.recv(crone, "<iq type='get' id='ol' to='"+coven+"'><query xmlns='"+NSAdmin+"'><item affiliation='outcast'/></query></iq>")
		if it := last(got, "iq").Child("query", NSAdmin).Child("item", NSAdmin); it == nil || it.Get("jid") != "wiz@example.com" {
			t.Fatalf("ban list: %s", dump(got))
		}
		h.wantAdmin(t, hag, "<item affiliation='outcast' jid='crone@example.com'/>", "forbidden", "participant bans")
	}},
	{"8.3_voice_in_moderated_room", func(t *testing.T, h *harness) {
		threeWitches(h, "moderatedroom=1")
		if p := item(find(h.join(wiz, "coven", "wizard"), func(el *xmlstream.Element) bool { return hasCodes(el, codeSelf) })); p.Get("role") != "visitor" {
			t.Fatalf("newcomer in a moderated room has role %s", p.Get("role"))
		}
		if c := errorOf(last(h.recv(wiz, "<message type='groupchat' to='"+coven+"'><body>x</body></message>"), "message")); c != "forbidden" {
			t.Fatalf("visitor speaks: %q", c)
		}
		h.wantAdmin(t, crone, "<item nick='wizard' role='participant'/>", "result", "grant voice")
		if find(h.recv(wiz, "<message type='groupchat' to='"+coven+"'><body>now</body></message>"), body("now")) == nil {
			t.Fatal("voiced participant not heard")
		}
		h.wantAdmin(t, crone, "<item nick='wizard' role='visitor'/>", "result", "revoke voice")
		got := h.recv(crone, "<iq type='get' id='vl' to='"+coven+"'><query xmlns='"+NSAdmin+"'><item role='participant'/></query></iq>")
		if n := len(last(got, "iq").Child("query", NSAdmin).Children); n != 0 {
			t.Fatalf("voice list after revoking: %s", dump(got))
		}
	}},
	{"10.6_last_owner_stays", func(t *testing.T, h *harness) {
		threeWitches(h)
		h.wantAdmin(t, crone, "<item affiliation='member' jid='crone@example.com'/>", "conflict", "last owner steps down")
		h.wantAdmin(t, crone, "<item affiliation='owner' jid='wiz@example.com'/>", "result", "second owner")
		if p := last(h.user(hag).take(), "presence"); item(p).Get("affiliation") != "owner" || item(p).Get("role") != "moderator" {
			t.Fatalf("affiliation change broadcast: %v", p)
		}
	}},
	{"9_admin_cannot_touch_owner", func(t *testing.T, h *harness) {
		threeWitches(h)
		h.recv(crone, adminSet("<item affiliation='admin' jid='wiz@example.com'/>"))
		h.wantAdmin(t, wiz, "<item affiliation='outcast' jid='crone@example.com'/>", "not-allowed", "admin bans owner")
		h.wantAdmin(t, wiz, "<item affiliation='admin' jid='hag@example.com'/>", "forbidden", "admin makes admin")
		h.wantAdmin(t, wiz, "<item affiliation='member' jid='hag@example.com'/>", "result", "admin makes member")
	}},
	{"10.2_config_form_and_bad_forms", func(t *testing.T, h *harness) {
		threeWitches(h)
		got := h.recv(crone, "<iq type='get' id='g' to='"+coven+"'><query xmlns='"+NSOwner+"'/></iq>")
		x := last(got, "iq").Child("query", NSOwner).Child("x", NSData)
		if x == nil || x.Get("type") != "form" || !strings.Contains(x.String(), fWhoIs) {
			t.Fatalf("config form: %s", dump(got))
		}
		if c := iqError(h.recv(wiz, "<iq type='get' id='g' to='"+coven+"'><query xmlns='"+NSOwner+"'/></iq>"), "g"); c != "forbidden" {
			t.Fatalf("non-owner gets form: %s", c)
		}
		for i, tc := range []struct{ payload, want string }{
			{"<x xmlns='jabber:x:data' type='form'/>", "bad-request"},
			{"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field></x>", "bad-request"},
			{form("persistentroom=maybe"), "not-acceptable"},
			{form("whois=everybody"), "not-acceptable"},
			{form("maxusers=-3"), "not-acceptable"},
			{form("passwordprotectedroom=1"), "not-acceptable"},
			{"<nothing xmlns='urn:x'/>", "bad-request"},
		} {
			got := h.recv(crone, "<iq type='set' id='s' to='"+coven+"'><query xmlns='"+NSOwner+"'>"+tc.payload+"</query></iq>")
			if c := iqError(got, "s"); c != tc.want {
				t.Errorf("%d: %s, want %s", i, c, tc.want)
			}
		}
		// A change tells the occupants (§10.2.1: 104, and 172).
		h.user(hag).take()
		h.configure(crone, "coven", "whois=anyone", "roomname=The Coven")
		if m := last(h.user(hag).take(), "message"); !hasCodes(m, codeConfigChange, codeNowNonAnon) {
			t.Fatalf("config change notice: %v", m)
		}
	}},
	{"10.1.3_cancel_initial_config_destroys", func(t *testing.T, h *harness) {
		h.join(crone, "coven", "firstwitch")
		got := h.recv(crone, "<iq type='set' id='c' to='"+coven+"'><query xmlns='"+NSOwner+"'><x xmlns='jabber:x:data' type='cancel'/></query></iq>")
		if iqError(got, "c") != "result" || last(got, "presence").Child("x", NSUser).Child("destroy", NSUser) == nil {
			t.Fatalf("cancel: %s", dump(got))
		}
		if !hasCodes(last(h.join(wiz, "coven", "wizard"), "presence"), codeCreated) {
			t.Fatal("the cancelled room still exists")
		}
	}},
	{"10.9_destroy", func(t *testing.T, h *harness) {
		threeWitches(h, "persistentroom=1")
		got := h.recv(crone, "<iq type='set' id='d' to='"+coven+"'><query xmlns='"+NSOwner+"'><destroy jid='darkcave@"+service+"'><reason>Macbeth doth come.</reason></destroy></query></iq>")
		if iqError(got, "d") != "result" {
			t.Fatalf("destroy: %s", dump(got))
		}
		p := last(h.user(wiz).take(), "presence")
		d := p.Child("x", NSUser).Child("destroy", NSUser)
		if p.Get("type") != "unavailable" || d == nil || d.Get("jid") != "darkcave@"+service || d.ChildText("reason", NSUser) != "Macbeth doth come." {
			t.Fatalf("occupant told: %v", p)
		}
		if _, err := h.st.GetRoom(context.Background(), coven); err == nil {
			t.Fatal("destroyed persistent room still stored")
		}
		if c := iqError(h.recv(wiz, "<iq type='get' id='i' to='"+coven+"'><query xmlns='"+NSDiscoInfo+"'/></iq>"), "i"); c != "item-not-found" {
			t.Fatalf("disco of a destroyed room: %s", c)
		}
	}},
	{"persistent_room_survives_restart", func(t *testing.T, h *harness) {
		threeWitches(h, "persistentroom=1", "roomname=The Coven", "membersonly=1", "whois=anyone")
		h.recv(crone, adminSet("<item affiliation='member' jid='wiz@example.com'/><item affiliation='outcast' jid='hag@example.com'/>"))
		h.send(crone, "<message type='groupchat' to='"+coven+"'><subject>Fire Burn</subject></message>")
		oidBefore := last(h.join(wiz, "coven", "wizard"), "presence").Child("occupant-id", NSOccupantID).Get("id")

		// A new service on the same store: as after a restart.
		h2 := newHarnessOn(t, h.st)
		got := h2.join(wiz, "coven", "wizard")
		self := find(got, func(el *xmlstream.Element) bool { return hasCodes(el, codeSelf) })
		if self == nil || hasCodes(self, codeCreated) || !hasCodes(self, codeNonAnonymous) || item(self).Get("affiliation") != "member" {
			t.Fatalf("member rejoining after restart: %s", dump(got))
		}
		if oid := self.Child("occupant-id", NSOccupantID).Get("id"); oid != oidBefore {
			t.Fatalf("occupant id changed across restart: %s -> %s", oidBefore, oid)
		}
		if m := last(got, "message"); m.ChildText("subject", "") != "Fire Burn" {
			t.Fatalf("subject lost: %s", dump(got))
		}
		if c := errorOf(last(h2.join(hag, "coven", "hag"), "presence")); c != "forbidden" {
			t.Fatalf("ban lost: %q", c)
		}
		if c := errorOf(last(h2.join("stranger@example.com/x", "coven", "s"), "presence")); c != "registration-required" {
			t.Fatalf("members-only lost: %q", c)
		}
		rooms, err := ListRooms(context.Background(), h.st)
		if err != nil || len(rooms) != 1 || rooms[0].Config.Name != "The Coven" || rooms[0].Owners[0] != "crone@example.com" {
			t.Fatalf("ListRooms = %+v, %v", rooms, err)
		}
	}},
	{"admin_functions_create_list_destroy", func(t *testing.T, h *harness) {
		ctx := context.Background()
		room, owner := jid.MustParse("council@"+service), jid.MustParse("crone@example.com")
		if err := CreateRoom(ctx, h.st, room, owner, Config{Name: "Council", Public: true}); err != nil {
			t.Fatal(err)
		}
		if err := CreateRoom(ctx, h.st, room, owner, Config{}); err == nil {
			t.Fatal("created the same room twice")
		}
		// The running service finds it: unlocked, crone is owner.
		got := h.join(crone, "council", "firstwitch")
		if self := last(got, "presence"); hasCodes(self, codeCreated) || item(self).Get("affiliation") != "owner" {
			t.Fatalf("joining an admin-created room: %s", dump(got))
		}
		got = h.recv(wiz, "<iq type='get' id='it' to='"+service+"'><query xmlns='"+NSDiscoItems+"'/></iq>")
		if it := last(got, "iq").Child("query", NSDiscoItems).Child("item", NSDiscoItems); it == nil || it.Get("name") != "Council" {
			t.Fatalf("public room not listed: %s", dump(got))
		}
		if err := h.svc.DestroyRoom(ctx, room, "closing"); err != nil {
			t.Fatal(err)
		}
		if p := last(h.user(crone).take(), "presence"); p == nil || p.Child("x", NSUser).Child("destroy", NSUser) == nil {
			t.Fatalf("occupant not told of the destruction: %v", p)
		}
		if err := DestroyRoom(ctx, h.st, room); err == nil {
			t.Fatal("destroyed room still stored")
		}
		if err := h.svc.CreateRoom(ctx, room, owner, DefaultConfig()); err != nil {
			t.Fatal(err)
		}
		if !hasCodes(last(h.join(wiz, "council", "wizard"), "presence"), codeSelf) {
			t.Fatal("room created on the service is not open")
		}
	}},
}

func TestAdmin(t *testing.T) { runRules(t, adminRules) }
