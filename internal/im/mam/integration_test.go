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
	for _, u := range []string{"alice", "bob"} {
		srv.AddUser(t, u, password)
	}
	desk := login(t, srv, "alice", "desk")
	phone := login(t, srv, "alice", "phone")
	bob := login(t, srv, "bob", "laptop")
	for _, c := range []*xmpptest.Client{desk, phone} {
		iqOK(t, c, "set", `<enable xmlns='urn:xmpp:carbons:2'/>`)
	}
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
