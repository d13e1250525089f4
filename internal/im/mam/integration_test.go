package mam_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/im/mam"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const (
	wait      = 10 * time.Second
	password  = "archive pass 1"
	nsCarbons = "urn:xmpp:carbons:2"
)

func login(t *testing.T, srv *testserver.Server, user, resource string) *xmpptest.Client {
	t.Helper()
	return srv.Online(t, user, password, resource)
}

func send(t *testing.T, c *xmpptest.Client, raw string) {
	t.Helper()
	if err := c.Send(raw); err != nil {
		t.Fatal(err)
	}
}

func expect(t *testing.T, c *xmpptest.Client, what string, match func(*xmlstream.Element) bool) *xmlstream.Element {
	t.Helper()
	el, err := c.Expect(wait, match)
	if err != nil {
		t.Fatalf("%s: waiting for %s: %v", c.JID, what, err)
	}
	return el
}

// carbonsPair adds alice and bob to srv and logs in alice's desk and
// phone, both with carbons (XEP-0280), and bob's laptop.
func carbonsPair(t *testing.T, srv *testserver.Server) (desk, phone, bob *xmpptest.Client) {
	t.Helper()
	srv.AddUsers(t, password, "alice", "bob")
	desk = login(t, srv, "alice", "desk")
	phone = login(t, srv, "alice", "phone")
	bob = login(t, srv, "bob", "laptop")
	for _, c := range []*xmpptest.Client{desk, phone} {
		iqOK(t, c, "set", `<enable xmlns='urn:xmpp:carbons:2'/>`)
	}
	return desk, phone, bob
}

func iqOK(t *testing.T, c *xmpptest.Client, typ, payload string) *xmlstream.Element {
	t.Helper()
	res, err := c.IQ(wait, typ, "", payload)
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("%s %s: %v %s", typ, payload, err, res)
	}
	return res
}

// page is one answered MAM query.
type page struct {
	bodies      []string
	ids         []string
	complete    bool
	first, last string
	count       string
}

// query runs a MAM query over the wire and collects its results.
func query(t *testing.T, c *xmpptest.Client, fields, rsm string) page {
	t.Helper()
	qid := "q" + strconv.FormatInt(time.Now().UnixNano(), 36)
	form := ""
	if fields != "" {
		form = `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>` + fields + `</x>`
	}
	send(t, c, `<iq type='set' id='`+qid+`'><query xmlns='urn:xmpp:mam:2' queryid='`+qid+`'>`+form+
		`<set xmlns='http://jabber.org/protocol/rsm'>`+rsm+`</set></query></iq>`)
	var p page
	for {
		el, err := c.Expect(wait, func(el *xmlstream.Element) bool {
			r := el.Child("result", mam.NS)
			return (el.Name == "iq" && el.Get("id") == qid) || (r != nil && r.Get("queryid") == qid)
		})
		if err != nil {
			t.Fatalf("query %s: %v", qid, err)
		}
		if el.Name == "iq" {
			fin := el.Child("fin", mam.NS)
			if el.Get("type") != "result" || fin == nil {
				t.Fatalf("query answer %s", el)
			}
			set := fin.Child("set", mam.NSRSM)
			p.complete = fin.Get("complete") == "true"
			p.first, p.last, p.count = set.ChildText("first", mam.NSRSM), set.ChildText("last", mam.NSRSM), set.ChildText("count", mam.NSRSM)
			return p
		}
		r := el.Child("result", mam.NS)
		msg := r.Child("forwarded", mam.NSForward).Child("message", "jabber:client")
		p.bodies = append(p.bodies, msg.ChildText("body", ""))
		p.ids = append(p.ids, r.Get("id"))
	}
}

func bodies(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("message %02d about %s", i, topic(i)))
	}
	return out
}

func topic(i int) string { return []string{"lunch", "the release", "holidays"}[i%3] }

// TestArchiveOverTCP: two devices with carbons, a conversation, paging
// both ways, full-text search, and the archive intact after a restart.
func TestArchiveOverTCP(t *testing.T) {
	data := t.TempDir()
	configure := func(c *config.Config) { c.Data = data }
	srv := testserver.Start(t, configure)
	desk, phone, bob := carbonsPair(t, srv)
	// Disco on the account advertises MAM and #extended.
	info, err := desk.IQ(wait, "get", "alice@localhost", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if err != nil || !strings.Contains(info.String(), mam.NSExtended) || !strings.Contains(info.String(), "'"+mam.NS+"'") {
		t.Fatalf("account disco: %v %s", err, info)
	}

	// 15 messages: alice's desk and bob take turns.
	all := bodies(0, 15)
	for i, b := range all {
		if i%2 == 0 {
			send(t, desk, `<message to='bob@localhost' type='chat' id='d`+strconv.Itoa(i)+`'><body>`+b+`</body><request xmlns='urn:xmpp:receipts'/></message>`)
			expect(t, bob, "message "+b, xmpptest.MessageBody(b))
			// XEP-0280: the phone sees what the desk sent.
			sent := expect(t, phone, "sent carbon of "+b, func(el *xmlstream.Element) bool {
				s := el.Child("sent", nsCarbons)
				return s != nil && s.Child("forwarded", mam.NSForward).Child("message", "jabber:client").ChildText("body", "") == b
			})
			if sent.Get("from") != "alice@localhost" {
				t.Fatalf("carbon from %q", sent.Get("from"))
			}
			// XEP-0184: bob's receipt reaches the desk (full JID), and the
			// phone by a received carbon, payload intact; it is not archived.
			send(t, bob, `<message to='`+desk.JID+`' id='r`+strconv.Itoa(i)+`'><received xmlns='urn:xmpp:receipts' id='d`+strconv.Itoa(i)+`'/></message>`)
			expect(t, desk, "receipt", func(el *xmlstream.Element) bool {
				r := el.Child("received", "urn:xmpp:receipts")
				return r != nil && r.Get("id") == "d"+strconv.Itoa(i)
			})
			expect(t, phone, "carbon of the receipt", func(el *xmlstream.Element) bool {
				r := el.Child("received", nsCarbons)
				if r == nil {
					return false
				}
				rr := r.Child("forwarded", mam.NSForward).Child("message", "jabber:client").Child("received", "urn:xmpp:receipts")
				return rr != nil && rr.Get("id") == "d"+strconv.Itoa(i)
			})
		} else {
			send(t, bob, `<message to='alice@localhost' type='chat'><body>`+b+`</body></message>`)
			expect(t, desk, "message "+b, xmpptest.MessageBody(b))
			expect(t, phone, "message "+b, xmpptest.MessageBody(b)) // equal priority: both
		}
	}

	checkArchive := func(t *testing.T, c *xmpptest.Client) {
		t.Helper()
		var got []string
		p := page{last: ""}
		for n := 0; ; n++ {
			rsm := "<max>4</max>"
			if p.last != "" {
				rsm += "<after>" + p.last + "</after>"
			}
			p = query(t, c, "", rsm)
			got = append(got, p.bodies...)
			if p.count != "15" {
				t.Fatalf("count %s, want 15", p.count)
			}
			if p.complete || n > 5 {
				break
			}
		}
		if !slices.Equal(got, all) {
			t.Fatalf("forward paging: %q\nwant %q", got, all)
		}
		got = nil
		p = page{}
		for n := 0; ; n++ {
			rsm := "<max>4</max><before>" + p.first + "</before>"
			p = query(t, c, "", rsm)
			got = append(p.bodies, got...)
			if p.complete || n > 5 {
				break
			}
		}
		if !slices.Equal(got, all) {
			t.Fatalf("backward paging: %q\nwant %q", got, all)
		}
		p = query(t, c, `<field var='{urn:xmpp:fulltext:0}fulltext'><value>release</value></field>`, "<max>10</max>")
		var want []string
		for i, b := range all {
			if topic(i) == "the release" {
				want = append(want, b)
			}
		}
		if !slices.Equal(p.bodies, want) || !p.complete {
			t.Fatalf("full-text: %q (complete %v), want %q", p.bodies, p.complete, want)
		}
		p = query(t, c, `<field var='withtext'><value>HOLIDAYS 05</value></field>`, "")
		if !slices.Equal(p.bodies, []string{all[5]}) {
			t.Fatalf("withtext: %q", p.bodies)
		}
	}
	checkArchive(t, phone)
	// bob's archive holds the same conversation, under his own ids.
	bp := query(t, bob, "<field var='with'><value>alice@localhost</value></field>", "<max>100</max>")
	if !slices.Equal(bp.bodies, all) {
		t.Fatalf("bob's archive %q", bp.bodies)
	}

	// Restart the server on the same data directory: the archive is
	// intact, and new messages continue it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	srv2 := testserver.Start(t, configure)
	desk2 := login(t, srv2, "alice", "desk")
	checkArchive(t, desk2)
	md := iqOK(t, desk2, "get", `<metadata xmlns='urn:xmpp:mam:2'/>`).Child("metadata", mam.NS)
	p := query(t, desk2, "", "<max>1</max><before/>")
	if md == nil || md.Child("end", mam.NS).Get("id") != p.ids[0] {
		t.Fatalf("metadata %s, last id %v", md, p.ids)
	}
}

// archivedStanzas runs a MAM query over the wire and returns the archived
// <message/> of each result, in archive order, with the result ids.
func archivedStanzas(t *testing.T, c *xmpptest.Client, fields string) (msgs []*xmlstream.Element, ids []string) {
	t.Helper()
	qid := "q" + strconv.FormatInt(time.Now().UnixNano(), 36)
	form := `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>` + fields + `</x>`
	send(t, c, `<iq type='set' id='`+qid+`'><query xmlns='urn:xmpp:mam:2' queryid='`+qid+`'>`+form+
		`<set xmlns='http://jabber.org/protocol/rsm'><max>100</max></set></query></iq>`)
	for {
		el := expect(t, c, "results of "+qid, func(el *xmlstream.Element) bool {
			r := el.Child("result", mam.NS)
			return (el.Name == "iq" && el.Get("id") == qid) || (r != nil && r.Get("queryid") == qid)
		})
		if el.Name == "iq" {
			if el.Get("type") != "result" {
				t.Fatalf("query answer %s", el)
			}
			return msgs, ids
		}
		r := el.Child("result", mam.NS)
		msgs = append(msgs, r.Child("forwarded", mam.NSForward).Child("message", "jabber:client"))
		ids = append(ids, r.Get("id"))
	}
}

// TestRetractionTombstones: a sender's retraction (XEP-0424, both
// namespaces) turns the retracted message into a tombstone in the
// sender's and the recipient's archive (same archive id and place, no
// body, the <retracted/> marker, the origin-id kept, out of full-text
// search), the retraction itself is archived, and nobody retracts another
// sender's message. The archive advertises urn:xmpp:message-retract:1.
func TestRetractionTombstones(t *testing.T) {
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, password, "alice", "bob")
	alice := login(t, srv, "alice", "desk")
	bob := login(t, srv, "bob", "laptop")
	info, err := alice.IQ(wait, "get", "alice@localhost", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if err != nil || !strings.Contains(info.String(), "'"+mam.NSRetract+"'") {
		t.Fatalf("account disco lacks %s: %v %s", mam.NSRetract, err, info)
	}

	say := func(from, to *xmpptest.Client, id, body, extra string) {
		t.Helper()
		send(t, from, `<message to='`+strings.Split(to.JID, "/")[0]+`' type='chat' id='`+id+`'><body>`+body+
			`</body>`+extra+`</message>`)
		expect(t, to, body, xmpptest.MessageBody(body))
	}
	say(alice, bob, "a1", "the launch code is sesame", `<origin-id xmlns='urn:xmpp:sid:0' id='orig-a1'/>`)
	say(bob, alice, "b1", "bob keeps this sesame", "")
	say(alice, bob, "a2", "alice keeps this", "")
	say(bob, alice, "b2", "bob regrets sesame", "")

	// bob cannot retract alice's message, even by its own id.
	say(bob, alice, "b3", "trying to retract hers", `<retract xmlns='urn:xmpp:message-retract:1' id='orig-a1'/>`)
	// alice retracts hers by its origin-id (v1), bob his by its id (v0).
	say(alice, bob, "a3", "retracted a message", `<retract xmlns='urn:xmpp:message-retract:1' id='orig-a1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/><store xmlns='urn:xmpp:hints'/>`)
	say(bob, alice, "b4", "retracted mine", `<apply-to xmlns='urn:xmpp:fasten:0' id='b2'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to>`)

	for _, c := range []*xmpptest.Client{alice, bob} {
		msgs, ids := archivedStanzas(t, c, "")
		if len(msgs) != 7 {
			t.Fatalf("%s: %d archived messages, want 7", c.JID, len(msgs))
		}
		var got []string
		for _, m := range msgs {
			got = append(got, m.ChildText("body", ""))
		}
		want := []string{"", "bob keeps this sesame", "alice keeps this", "", "trying to retract hers", "retracted a message", "retracted mine"}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: archived bodies %q, want %q", c.JID, got, want)
		}
		for i, ns := range map[int]string{0: mam.NSRetract, 3: mam.NSRetract0} {
			m := msgs[i]
			if m.Child("retracted", ns) == nil || m.Child("retracted", ns).Get("stamp") == "" {
				t.Fatalf("%s: tombstone %d lacks <retracted xmlns='%s' stamp/>: %s", c.JID, i, ns, m)
			}
			if len(m.Children) > 4 || m.Get("type") != "chat" || m.Get("from") == "" {
				t.Fatalf("%s: tombstone %d keeps more than its metadata, or loses its attributes: %s", c.JID, i, m)
			}
		}
		if o := msgs[0].Child("origin-id", "urn:xmpp:sid:0"); o == nil || o.Get("id") != "orig-a1" || msgs[0].Get("id") != "a1" {
			t.Fatalf("%s: tombstone lost its ids: %s", c.JID, msgs[0])
		}
		// Full-text search no longer sees the retracted words.
		_, found := archivedStanzas(t, c, `<field var='withtext'><value>sesame</value></field>`)
		if !slices.Equal(found, []string{ids[1]}) {
			t.Fatalf("%s: search for a retracted word found %q, want only %q", c.JID, found, ids[1])
		}
	}
}

// TestClarkFieldNames: form fields named in Clark notation with the MAM
// namespace ({urn:xmpp:mam:2}ids, as several clients send them) filter
// like the plain names.
func TestClarkFieldNames(t *testing.T) {
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, password, "alice", "bob", "carol")
	alice := login(t, srv, "alice", "desk")
	bob := login(t, srv, "bob", "laptop")
	carol := login(t, srv, "carol", "phone")
	for i, from := range []*xmpptest.Client{bob, carol, bob} {
		b := "clark " + strconv.Itoa(i)
		send(t, from, `<message to='alice@localhost' type='chat'><body>`+b+`</body></message>`)
		expect(t, alice, b, xmpptest.MessageBody(b))
	}
	all := query(t, alice, "", "<max>10</max>")
	if len(all.ids) != 3 {
		t.Fatalf("archive %q", all.bodies)
	}
	for i, tc := range []struct {
		fields string
		want   []string
	}{
		{`<field var='{urn:xmpp:mam:2}ids'><value>` + all.ids[0] + `</value><value>` + all.ids[2] + `</value></field>`,
			[]string{"clark 0", "clark 2"}},
		{`<field var='{urn:xmpp:mam:2}with'><value>carol@localhost</value></field>`, []string{"clark 1"}},
		{`<field var='{urn:xmpp:mam:2}after-id'><value>` + all.ids[0] + `</value></field>`, []string{"clark 1", "clark 2"}},
		{`<field var='{urn:xmpp:mam:2}start'><value>2000-01-01T00:00:00Z</value></field><field var='{urn:xmpp:mam:2}end'><value>2000-01-02T00:00:00Z</value></field>`, nil},
	} {
		if got := query(t, alice, tc.fields, "<max>10</max>"); !slices.Equal(got.bodies, tc.want) {
			t.Errorf("%d: %s: got %q, want %q", i, tc.fields, got.bodies, tc.want)
		}
	}
}

// TestFarDates: start and end far from now (beyond the years 1678-2262
// that int64 Unix nanoseconds hold) filter as the dates they are.
func TestFarDates(t *testing.T) {
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, password, "alice", "bob")
	alice := login(t, srv, "alice", "desk")
	bob := login(t, srv, "bob", "laptop")
	for i := range 2 {
		b := "dated " + strconv.Itoa(i)
		send(t, bob, `<message to='alice@localhost' type='chat'><body>`+b+`</body></message>`)
		expect(t, alice, b, xmpptest.MessageBody(b))
	}
	field := func(name, v string) string { return `<field var='` + name + `'><value>` + v + `</value></field>` }
	for i, tc := range []struct {
		fields string
		want   []string
	}{
		{field("end", "9999-12-31T23:59:59Z"), []string{"dated 0", "dated 1"}},
		{field("start", "2300-01-01T00:00:00Z"), nil},
		{field("start", "1000-01-01T00:00:00Z"), []string{"dated 0", "dated 1"}},
		{field("end", "1600-01-01T00:00:00Z"), nil},
		{field("start", "0001-01-01T00:00:00Z") + field("end", "9999-12-31T23:59:59Z"), []string{"dated 0", "dated 1"}},
	} {
		if got := query(t, alice, tc.fields, "<max>10</max>"); !slices.Equal(got.bodies, tc.want) {
			t.Errorf("%d: %s: got %q, want %q", i, tc.fields, got.bodies, tc.want)
		}
	}
}

// errorCondition is the defined condition of an error stanza, or "".
func errorCondition(el *xmlstream.Element) string {
	e := el.Child("error", "")
	if el.Get("type") != "error" || e == nil {
		return ""
	}
	for _, c := range e.Children {
		if c.Space == "urn:ietf:params:xml:ns:xmpp-stanzas" && c.Name != "text" {
			return c.Name
		}
	}
	return "?"
}

// TestSearchLimitsOverTCP reproduces issue 10's attack: searches of
// 100,000 words (31 s of CPU each) and many searches at once. Searches
// beyond the length, word or ids limits are refused with policy-violation
// before they reach the store; thirty searches at the limit from two
// sessions at once are all answered, and a login and another user's
// query made while they are outstanding are answered too (the store holds
// archive queries to their share of its connections: storetest's
// ArchiveShare).
func TestSearchLimitsOverTCP(t *testing.T) {
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, password, "alice", "bob", "carol")
	desk := login(t, srv, "alice", "desk")
	phone := login(t, srv, "alice", "phone")
	bob := login(t, srv, "bob", "laptop")
	words := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi")
	for i := range 20 {
		b := strings.Join(words, " ") + " " + strconv.Itoa(i)
		send(t, bob, `<message to='alice@localhost' type='chat'><body>`+b+`</body></message>`)
		expect(t, desk, b, xmpptest.MessageBody(b))
	}
	form := func(fields string) string {
		return `<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>` +
			fields + `</x><set xmlns='http://jabber.org/protocol/rsm'><max>5</max></set></query>`
	}
	text := func(s string) string { return `<field var='withtext'><value>` + s + `</value></field>` }
	many := strings.Repeat("w ", 100000)
	var ids strings.Builder
	for i := range mam.MaxPage + 1 {
		ids.WriteString("<value>id" + strconv.Itoa(i) + "</value>")
	}
	for i, fields := range []string{
		text(many),                              // the attack: 100,000 words
		text(strings.Join(words, " ") + " rho"), // 17 words
		text(strings.Repeat("x", mam.DefaultSearchBytes+1)), // one word, too long
		`<field var='{urn:xmpp:fulltext:0}fulltext'><value>` + strings.Join(words[:10], " ") + `</value></field>` + text(strings.Join(words[10:], " ")+" rho"),
		`<field var='ids'>` + ids.String() + `</field>`,
	} {
		res, err := desk.IQ(wait, "set", "", form(fields))
		if err != nil || errorCondition(res) != "policy-violation" {
			t.Fatalf("query %d beyond the limits: %v %.300s", i, err, res)
		}
	}

	// Thirty searches at the limit, outstanding together.
	atLimit := form(text(strings.Join(words, " ")))
	for i := range 30 {
		c := []*xmpptest.Client{desk, phone}[i%2]
		send(t, c, `<iq type='set' id='heavy`+strconv.Itoa(i)+`'>`+atLimit+`</iq>`)
	}
	carol := login(t, srv, "carol", "late")
	if p := query(t, carol, "", "<max>5</max>"); !p.complete || len(p.ids) != 0 {
		t.Fatalf("carol's query while searches run: %+v", p)
	}
	for i := range 30 {
		c := []*xmpptest.Client{desk, phone}[i%2]
		id := "heavy" + strconv.Itoa(i)
		res := expect(t, c, "answer to "+id, func(el *xmlstream.Element) bool { return el.Name == "iq" && el.Get("id") == id })
		fin := res.Child("fin", mam.NS)
		if res.Get("type") != "result" || fin == nil || fin.Child("set", mam.NSRSM).ChildText("count", mam.NSRSM) != "20" {
			t.Fatalf("search %d at the limit: %.300s", i, res)
		}
	}
}

// TestSearchLimitsConfigured: [archive] search_max_words and
// search_max_bytes reach the archive of a running server.
func TestSearchLimitsConfigured(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) { c.Archive.SearchWords, c.Archive.SearchBytes = 2, 20 })
	srv.AddUser(t, "alice", password)
	alice := login(t, srv, "alice", "desk")
	for i, tc := range []struct{ text, want string }{
		{"one two", ""},
		{"one two three", "policy-violation"},
		{"twentyonecharacters!!", "policy-violation"},
	} {
		res, err := alice.IQ(wait, "set", "", `<query xmlns='urn:xmpp:mam:2'><x xmlns='jabber:x:data' type='submit'>`+
			`<field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field><field var='withtext'><value>`+
			tc.text+`</value></field></x></query>`)
		if err != nil || errorCondition(res) != tc.want {
			t.Fatalf("%d: %q answered %v %.300s, want %q", i, tc.text, err, res, tc.want)
		}
	}
}
