package muc

import (
	"strings"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
)

// TestCreatePolicy: who may create rooms under each [muc] create mode
// (XEP-0045 §10.1.1 leaves it to the service), and a reload.
func TestCreatePolicy(t *testing.T) {
	h := newHarness(t)
	local, remote, admin := jid.MustParse("wiz@example.com/x"), jid.MustParse("wiz@elsewhere.org/x"), jid.MustParse("root@example.com/y")
	admins := []jid.JID{jid.MustParse("root@example.com")}
	for i, tc := range []struct {
		mode                string
		local, remote, root bool
	}{
		{"", true, false, true},
		{CreateLocal, true, false, true},
		{CreateAnyone, true, true, true},
		{CreateAdmins, false, false, true},
	} {
		h.svc.SetCreatePolicy(tc.mode, admins)
		if got := [3]bool{h.svc.mayCreate(local), h.svc.mayCreate(remote), h.svc.mayCreate(admin)}; got != [3]bool{tc.local, tc.remote, tc.root} {
			t.Errorf("%d %q: local, remote, admin may create: %v", i, tc.mode, got)
		}
	}
	// A refused join gets not-allowed and leaves no room behind.
	h.svc.SetCreatePolicy(CreateAdmins, admins)
	if c := errorOf(last(h.join(crone, "coven", "firstwitch"), "presence")); c != "not-allowed" {
		t.Fatalf("refused creation: %q", c)
	}
	if len(h.svc.liveRooms()) != 0 {
		t.Fatal("a refused creation left a room")
	}
}

// TestRoomLimitsAfterRestart: the per-user limits count the persistent
// rooms in the store, which a restarted service has not loaded.
func TestRoomLimitsAfterRestart(t *testing.T) {
	limits := func(o *Options) { o.MaxRooms, o.MaxPersistentRooms = 2, 1 }
	h := newHarness(t, limits)
	h.create(crone, "coven", "firstwitch")
	h.configure(crone, "coven", "persistentroom=1")

	h2 := newHarnessOn(t, h.st, limits)
	h2.create(crone, "heath", "firstwitch")
	got := h2.recv(crone, "<iq type='set' id='cfg' to='heath@"+service+"'><query xmlns='"+NSOwner+"'>"+form("persistentroom=1")+"</query></iq>")
	if c := errorOf(find(got, isIQ("cfg"))); c != "policy-violation" {
		t.Fatalf("second persistent room after a restart: %q", c)
	}
	if c := errorOf(last(h2.join(crone, "cave", "firstwitch"), "presence")); c != "not-allowed" {
		t.Fatalf("third room after a restart: %q", c)
	}
	// Another user is not affected.
	if !hasCodes(last(h2.join(wiz, "cave", "wizard"), "presence"), codeCreated) {
		t.Fatal("another user's room refused")
	}
}

// TestRegister: the module contract (New(Options), Register(router)): a
// zero JID is conference.<the router's domain>, whose stanzas reach the
// module.
func TestRegister(t *testing.T) {
	r := router.New(jid.MustParse("example.org"), nil, nil)
	m := New(Options{})
	m.Register(r)
	if m.JID().String() != "conference.example.org" {
		t.Fatalf("JID %s", m.JID())
	}
	s := imtest.NewSession(t, "wiz@example.org/x")
	r.Bind(s)
	st := imtest.Parse(t, "<iq type='get' id='d' to='conference.example.org'><query xmlns='"+NSDiscoInfo+"'/></iq>")
	st.SetFrom(s.JID())
	r.Route(t.Context(), st)
	got := s.Take()
	if len(got) != 1 || !strings.Contains(got.String(), "category='conference'") {
		t.Fatalf("disco#info of the registered service: %s", got)
	}
}

// TestRoomListingFollowsChanges: the service's room list (kept between
// requests) shows a room once it is configured, follows its name and
// visibility, and drops it when it goes.
func TestRoomListingFollowsChanges(t *testing.T) {
	h := newHarness(t)
	list := func() string {
		got := find(h.recv(wiz, "<iq type='get' id='d' to='"+service+"'><query xmlns='"+NSDiscoItems+"'/></iq>"), isIQ("d"))
		var out []string
		for _, it := range got.Child("query", NSDiscoItems).Children {
			out = append(out, it.Get("jid")+"="+it.Get("name"))
		}
		return strings.Join(out, " ")
	}
	h.join(crone, "coven", "firstwitch")
	if got := list(); got != "" {
		t.Fatalf("a locked room is listed: %s", got)
	}
	h.configure(crone, "coven", "")
	if got := list(); got != coven+"=" {
		t.Fatalf("after configuration: %s", got)
	}
	h.configure(crone, "coven", "roomname=Heath")
	if got := list(); got != coven+"=Heath" {
		t.Fatalf("after a rename: %s", got)
	}
	h.configure(crone, "coven", "publicroom=0")
	if got := list(); got != "" {
		t.Fatalf("a hidden room is listed: %s", got)
	}
	h.configure(crone, "coven", "publicroom=1")
	h.send(crone, "<presence type='unavailable' to='"+coven+"/firstwitch'/>")
	if got := list(); got != "" {
		t.Fatalf("an emptied temporary room is listed: %s", got)
	}
}
