package muc

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"parley/internal/im/mam"
	"parley/internal/jid"
	"parley/internal/rsm"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

// archiveHarness is a harness whose service archives rooms in its store.
func archiveHarness(t *testing.T) *harness {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newHarnessOn(t, st, func(o *Options) { o.Archive = st })
}

// mamPage is one answered query to a room's archive.
type mamPage struct {
	results []*xmlstream.Element // the forwarded messages
	ids     []string             // the result ids
	answer  *xmlstream.Element   // the IQ result or error
}

func (p mamPage) bodies() []string {
	var out []string
	for _, m := range p.results {
		out = append(out, m.ChildText("body", ""))
	}
	return out
}

// queryRoom sends a MAM query to a room's JID and collects the answer.
func (h *harness) queryRoom(full, room, fields, set string) mamPage {
	h.t.Helper()
	got := h.recv(full, "<iq type='set' id='mq' to='"+room+"'><query xmlns='"+mam.NS+"' queryid='q1'>"+xmpptest.MAMForm(fields)+
		"<set xmlns='"+rsm.NS+"'>"+set+"</set></query></iq>")
	var p mamPage
	for _, el := range got {
		if el.Name == "iq" && el.Get("id") == "mq" {
			p.answer = el
			continue
		}
		r := el.Child("result", mam.NS)
		if r == nil || r.Get("queryid") != "q1" {
			continue
		}
		if el.Get("from") != room {
			h.t.Fatalf("result not from the room: %s", el)
		}
		msg := r.Child("forwarded", mam.NSForward).Child("message", "jabber:client")
		if msg == nil {
			h.t.Fatalf("result without a jabber:client message: %s", el)
		}
		p.results = append(p.results, msg)
		p.ids = append(p.ids, r.Get("id"))
	}
	if p.answer == nil {
		h.t.Fatalf("no answer to the query: %s", dump(got))
	}
	return p
}

// say sends groupchat bodies from full and returns the stanza-ids the
// room stamped, as full saw them.
func (h *harness) say(full string, bodies ...string) []string {
	h.t.Helper()
	var ids []string
	for _, b := range bodies {
		got := h.recv(full, "<message to='"+coven+"' type='groupchat' id='m'><body>"+b+"</body></message>")
		echo := find(got, body(b))
		if echo == nil {
			h.t.Fatalf("no echo of %q: %s", b, dump(got))
		}
		ids = append(ids, echo.Child("stanza-id", NSStanzaID).Get("id"))
	}
	return ids
}

func hasFeature(el *xmlstream.Element, v string) bool {
	return el != nil && strings.Contains(el.String(), "var='"+v+"'")
}

func (h *harness) disco(full string) *xmlstream.Element {
	h.t.Helper()
	return find(h.recv(full, "<iq type='get' id='di' to='"+coven+"'><query xmlns='"+NSDiscoInfo+"'/></iq>"), isIQ("di"))
}

var archiveRules = []rule{
	{"xep0424_sender_retraction_leaves_a_tombstone", func(t *testing.T, h *harness) {
		threeWitches(h, "persistentroom=1")
		ids := h.say(wiz, "rude", "fine")
		// An old message (out of history) is found in the archive.
		rm := h.svc.rooms[mustJID(coven)]
		rm.mu.Lock()
		rm.history.entries = nil
		rm.mu.Unlock()
		h.send(hag, "<message type='groupchat' to='"+coven+"'><retract xmlns='"+NSRetract+"' id='"+ids[1]+"'/></message>")
		h.send(wiz, "<message type='groupchat' to='"+coven+"'><apply-to xmlns='"+NSFasten+"' id='"+ids[0]+
			"'><retract xmlns='"+NSRetract0+"'/></apply-to></message>")
		p := h.queryRoom(crone, coven, "", "")
		if len(p.results) != 4 {
			t.Fatalf("archive: %s", dump(p.results))
		}
		if r := p.results[0].Child("retracted", NSRetract0); r == nil || r.Get("by") != coven+"/wizard" || p.results[0].Child("body", "") != nil {
			t.Fatalf("own retraction (v0): %s", p.results[0])
		}
		if p.results[1].ChildText("body", "") != "fine" {
			t.Fatalf("another's retraction took effect: %s", p.results[1])
		}
	}},
	{"7.2.15_history_from_the_archive_after_a_restart", func(t *testing.T, h *harness) {
		threeWitches(h, "persistentroom=1")
		ids := h.say(crone, "one", "two", "three")
		h.send(crone, "<iq type='set' id='m' to='"+coven+"'><moderate xmlns='"+NSModerate+"' id='"+ids[1]+
			"'><retract xmlns='"+NSRetract+"'/></moderate></iq>")
		// A new service on the same store: the room is read again.
		h2 := newHarnessOn(t, h.st, func(o *Options) { o.Archive = h.st })
		got := h2.recv("late@example.com/x", "<presence to='"+coven+"/late'><x xmlns='"+NS+"'><history maxstanzas='5'/></x></presence>")
		var bodies []string
		for _, m := range all(got, from("message", coven+"/firstwitch")) {
			if m.Child("delay", NSDelay) == nil {
				t.Fatalf("history without delay: %s", m)
			}
			bodies = append(bodies, m.ChildText("body", ""))
		}
		// The moderated message and the moderation notice are not history.
		if !slices.Equal(bodies, []string{"one", "three"}) {
			t.Fatalf("history after a restart: %q in %s", bodies, dump(got))
		}
		// A message said after the restart follows them, once.
		h2.recv("late@example.com/x", "<message to='"+coven+"' type='groupchat'><body>four</body></message>")
		got = h2.recv("later@example.com/x", "<presence to='"+coven+"/later'><x xmlns='"+NS+"'/></presence>")
		bodies = nil
		for _, m := range all(got, func(el *xmlstream.Element) bool { return el.Name == "message" && el.Child("body", "") != nil }) {
			bodies = append(bodies, m.ChildText("body", ""))
		}
		if !slices.Equal(bodies, []string{"one", "three", "four"}) {
			t.Fatalf("history after a new message: %q", bodies)
		}
	}},
	{"xep0425_moderation_leaves_a_tombstone", func(t *testing.T, h *harness) {
		threeWitches(h, "persistentroom=1")
		ids := h.say(wiz, "rude", "fine")
		h.send(crone, "<iq type='set' id='m' to='"+coven+"'><moderate xmlns='"+NSModerate+"' id='"+ids[0]+
			"'><retract xmlns='"+NSRetract+"'/><reason>spam</reason></moderate></iq>")
		// The moderating IQ's flush wrote the tombstone before it returned.
		p := h.queryRoom(hag, coven, "", "")
		if len(p.results) != 3 || p.ids[0] != ids[0] {
			t.Fatalf("archive after moderation: %s", dump(p.results))
		}
		tomb := p.results[0]
		marker := tomb.Child("retracted", NSRetract)
		if tomb.Child("body", "") != nil || marker == nil || marker.ChildText("reason", NSRetract) != "spam" ||
			marker.Child("moderated", NSModerate).Get("by") != coven+"/firstwitch" ||
			tomb.Get("from") != coven+"/wizard" || tomb.Child("stanza-id", NSStanzaID).Get("id") != ids[0] {
			t.Fatalf("tombstone: %s", tomb)
		}
		if p.bodies()[1] != "fine" || p.results[2].Child("retract", NSRetract) == nil {
			t.Fatalf("the rest of the archive: %s", dump(p.results))
		}
	}},
	{"archive_as_broadcast_ids_equal_stanza_ids", func(t *testing.T, h *harness) {
		threeWitches(h, "persistentroom=1")
		ids := h.say(crone, "When shall we three meet again", "In thunder, lightning, or in rain?")
		// Neither a subject change nor a chat state is archived.
		h.send(crone, "<message to='"+coven+"' type='groupchat'><subject>Fair is foul</subject></message>")
		h.send(wiz, "<message to='"+coven+"' type='groupchat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>")
		ids = append(ids, h.say(wiz, "When the hurlyburly's done")...)
		p := h.queryRoom(hag, coven, "", "")
		if p.answer.Get("type") != "result" {
			t.Fatalf("query: %s", p.answer)
		}
		want := []string{"When shall we three meet again", "In thunder, lightning, or in rain?", "When the hurlyburly's done"}
		if !slices.Equal(p.bodies(), want) || !slices.Equal(p.ids, ids) {
			t.Fatalf("archive %q ids %v, want %q ids %v", p.bodies(), p.ids, want, ids)
		}
		m := p.results[2]
		// As occupants saw it: from room/nick, the room's stanza-id and
		// the occupant id, no real JID, no 'to'.
		if m.Get("from") != coven+"/wizard" || m.Get("type") != "groupchat" || m.Get("to") != "" ||
			m.Child("stanza-id", NSStanzaID).Get("by") != coven || m.Child("occupant-id", NSOccupantID) == nil ||
			strings.Contains(m.String(), "wiz@example.com") {
			t.Fatalf("archived message %s", m)
		}
		fin := p.answer.Child("fin", mam.NS)
		if fin.Get("complete") != "true" || fin.Child("set", rsm.NS).ChildText("count", rsm.NS) != "3" {
			t.Fatalf("fin %s", fin)
		}
	}},
	{"paging_with_and_metadata", func(t *testing.T, h *harness) {
		threeWitches(h, "persistentroom=1")
		var all []string
		for i := range 5 {
			who := []string{crone, wiz}[i%2]
			all = append(all, "line "+strconv.Itoa(i))
			h.say(who, all[i])
		}
		p := h.queryRoom(hag, coven, "", "<max>2</max>")
		if !slices.Equal(p.bodies(), all[:2]) || p.answer.Child("fin", mam.NS).Get("complete") == "true" {
			t.Fatalf("first page %q %s", p.bodies(), p.answer)
		}
		p = h.queryRoom(hag, coven, "", "<max>10</max><after>"+p.ids[1]+"</after>")
		if !slices.Equal(p.bodies(), all[2:]) {
			t.Fatalf("second page %q", p.bodies())
		}
		p = h.queryRoom(hag, coven, "", "<max>1</max><before/>")
		if !slices.Equal(p.bodies(), all[4:]) {
			t.Fatalf("last page %q", p.bodies())
		}
		// 'with' names an occupant (room/nick); the room's JID is all.
		p = h.queryRoom(hag, coven, "<field var='with'><value>"+coven+"/wizard</value></field>", "")
		if !slices.Equal(p.bodies(), []string{all[1], all[3]}) {
			t.Fatalf("with wizard %q", p.bodies())
		}
		p = h.queryRoom(hag, coven, "<field var='with'><value>"+coven+"</value></field>", "")
		if len(p.results) != 5 {
			t.Fatalf("with the room %q", p.bodies())
		}
		p = h.queryRoom(hag, coven, "<field var='{urn:xmpp:fulltext:0}fulltext'><value>3</value></field>", "")
		if !slices.Equal(p.bodies(), all[3:4]) {
			t.Fatalf("full text %q", p.bodies())
		}
		md := find(h.recv(hag, "<iq type='get' id='md' to='"+coven+"'><metadata xmlns='"+mam.NS+"'/></iq>"), isIQ("md"))
		if md.Get("type") != "result" || md.Child("metadata", mam.NS).Child("end", mam.NS) == nil {
			t.Fatalf("metadata %s", md)
		}
		// Bad input gets the XEP's errors from the room too.
		p = h.queryRoom(hag, coven, "<field var='start'><value>yesterday</value></field>", "")
		if errorOf(p.answer) != "bad-request" {
			t.Fatalf("bad date: %s", p.answer)
		}
		p = h.queryRoom(hag, coven, "", "<after>no-such-id</after>")
		if errorOf(p.answer) != "item-not-found" {
			t.Fatalf("unknown id: %s", p.answer)
		}
	}},
	{"disco_and_who_may_query", func(t *testing.T, h *harness) {
		threeWitches(h, "persistentroom=1", "membersonly=0")
		if d := h.disco(hag); !hasFeature(d, mam.NS) || !hasFeature(d, mam.NSExtended) {
			t.Fatalf("disco of an archived room: %s", d)
		}
		h.say(crone, "Double, double")
		const outsider = "macbeth@example.com/castle"
		if p := h.queryRoom(outsider, coven, "", ""); errorOf(p.answer) != "forbidden" {
			t.Fatalf("non-occupant: %s", p.answer)
		}
		// Another session of an occupant's account may query.
		if p := h.queryRoom("hag@example.com/other", coven, "", ""); len(p.results) != 1 {
			t.Fatalf("occupant's other session: %s", p.answer)
		}
		// A member who is not in the room may; an outcast may not.
		h.recv(crone, adminSet("<item jid='banquo@example.com' affiliation='member'/>"))
		if p := h.queryRoom("banquo@example.com/x", coven, "", ""); len(p.results) != 1 {
			t.Fatalf("member: %s", p.answer)
		}
		h.recv(crone, adminSet("<item jid='banquo@example.com' affiliation='outcast'/>"))
		if p := h.queryRoom("banquo@example.com/x", coven, "", ""); errorOf(p.answer) != "forbidden" {
			t.Fatalf("outcast: %s", p.answer)
		}
		if got := find(h.recv(hag, "<iq type='get' id='pr' to='"+coven+"'><prefs xmlns='"+mam.NS+"'/></iq>"), isIQ("pr")); errorOf(got) != "feature-not-implemented" {
			t.Fatalf("prefs: %s", got)
		}
	}},
	{"temporary_or_unarchived_rooms_keep_nothing", func(t *testing.T, h *harness) {
		threeWitches(h)
		if d := h.disco(hag); hasFeature(d, mam.NS) {
			t.Fatalf("temporary room advertises an archive: %s", d)
		}
		h.say(crone, "Fillet of a fenny snake")
		if p := h.queryRoom(hag, coven, "", ""); errorOf(p.answer) != "service-unavailable" {
			t.Fatalf("temporary room: %s", p.answer)
		}
		h.configure(crone, "coven", "persistentroom=1", "enablearchiving=0")
		h.say(crone, "In the cauldron boil and bake")
		if d := h.disco(hag); hasFeature(d, mam.NS) {
			t.Fatalf("archiving off but advertised: %s", d)
		}
		h.configure(crone, "coven", "enablearchiving=1")
		h.say(crone, "Eye of newt")
		if p := h.queryRoom(hag, coven, "", ""); !slices.Equal(p.bodies(), []string{"Eye of newt"}) {
			t.Fatalf("archive %q", p.bodies())
		}
	}},
	{"archive_survives_restart_and_goes_with_the_room", func(t *testing.T, h *harness) {
		threeWitches(h, "persistentroom=1")
		ids := h.say(crone, "By the pricking of my thumbs", "Something wicked this way comes")
		h2 := newHarnessOn(t, h.st, func(o *Options) { o.Archive = h.st })
		h2.join(hag, "coven", "hag")
		p := h2.queryRoom(hag, coven, "", "")
		if !slices.Equal(p.ids, ids) || len(p.results) != 2 {
			t.Fatalf("after restart %q %v", p.bodies(), p.ids)
		}
		// XEP-0425: a message older than the in-memory history can still
		// be moderated, and the retraction is archived.
		got := h2.recv(crone, "<iq type='set' id='mod' to='"+coven+"'><moderate xmlns='"+NSModerate+"' id='"+ids[0]+
			"'><retract xmlns='"+NSRetract+"'/></moderate></iq>")
		if r := find(got, isIQ("mod")); errorOf(r) != "forbidden" { // crone has not joined h2's room
			t.Fatalf("moderation by a non-occupant: %s", dump(got))
		}
		h2.join(crone, "coven", "firstwitch")
		got = h2.recv(crone, "<iq type='set' id='mod' to='"+coven+"'><moderate xmlns='"+NSModerate+"' id='"+ids[0]+
			"'><retract xmlns='"+NSRetract+"'/></moderate></iq>")
		if r := find(got, isIQ("mod")); r == nil || r.Get("type") != "result" {
			t.Fatalf("moderating an archived message: %s", dump(got))
		}
		p = h2.queryRoom(hag, coven, "", "")
		if len(p.results) != 3 || p.results[2].Child("retract", NSRetract).Get("id") != ids[0] {
			t.Fatalf("retraction not archived: %s", dump(p.results))
		}
		h2.recv(crone, "<iq type='set' id='d' to='"+coven+"'><query xmlns='"+NSOwner+"'><destroy/></query></iq>")
		pg, err := h.st.QueryArchive(context.Background(), coven, storeQuery())
		if err != nil || len(pg.Messages) != 0 {
			t.Fatalf("archive of a destroyed room: %v %d", err, len(pg.Messages))
		}
	}},
}

// TestArchiveQueryLimits: a room's archive is held to the configured
// query limits (`[archive]` search_max_bytes, search_max_words), not only
// to mam's defaults: a search within the defaults but beyond the
// configured limit is refused with policy-violation.
func TestArchiveQueryLimits(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := newHarnessOn(t, st, func(o *Options) {
		o.Archive = st
		o.ArchiveLimits = mam.Limits{SearchBytes: 12, SearchWords: 2}
	})
	threeWitches(h, "persistentroom=1")
	h.say(wiz, "double double toil and trouble")
	search := func(text string) mamPage {
		return h.queryRoom(hag, coven, "<field var='withtext'><value>"+text+"</value></field>", "")
	}
	if p := search("toil trouble"); p.answer.Get("type") != "result" || len(p.results) != 1 {
		t.Fatalf("a search within the limits: %s %s", p.answer, dump(p.results))
	}
	for _, text := range []string{"double toil trouble", "toiltroubles!"} { // 3 words; 13 bytes
		if p := search(text); errorOf(p.answer) != "policy-violation" || len(p.results) != 0 {
			t.Errorf("search %q beyond the configured limits: %s %s", text, p.answer, dump(p.results))
		}
	}
}

func TestArchiveRules(t *testing.T) {
	for i, tc := range archiveRules {
		t.Run(strconv.Itoa(i)+"_"+tc.name, func(t *testing.T) {
			tc.run(t, archiveHarness(t))
		})
	}
}

func storeQuery() store.ArchiveQuery { return store.ArchiveQuery{Limit: 10} }

func mustJID(s string) jid.JID { return jid.MustParse(s) }
