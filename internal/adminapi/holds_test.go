package adminapi_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"parley/internal/audit"
	"parley/internal/control"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

const holdRoom = "desk@conference.localhost"

// mamArchive returns the messages of an archive (the client's own, or a
// room's) as its owner or an occupant sees them (XEP-0313), in order.
func mamArchive(t *testing.T, c *xmpptest.Client, archive string) []*xmlstream.Element {
	t.Helper()
	return xmpptest.MustQueryArchive(t, c, wait, archive, "").Messages()
}

// bodies lists what an archive shows: each message's body, or
// "<retracted>" for a tombstone.
func bodies(msgs []*xmlstream.Element) string {
	var out []string
	for _, m := range msgs {
		switch {
		case m.Child("retracted", "urn:xmpp:message-retract:1") != nil:
			out = append(out, "<retracted>")
		default:
			out = append(out, m.ChildText("body", ""))
		}
	}
	return strings.Join(out, "|")
}

// TestHoldKeepsOriginals: under a legal hold placed through the API (role
// compliance), a message its sender retracts (XEP-0424), a room message a
// moderator moderates (XEP-0425) and the archive of an account deleted
// through the API are kept: users see the tombstone or nothing over
// XMPP, compliance reads the originals at /held-messages. What the hold
// does not name (bob's archive) is not kept. Releasing keeps the record;
// both changes are audited with the token that made them.
func TestHoldKeepsOriginals(t *testing.T) {
	e := start(t)
	compliance := e.tokens[control.RoleCompliance]
	for _, u := range []string{"alice", "bob", "carol"} {
		e.srv.AddUser(t, u, "pw-"+u)
	}
	if resp, _ := e.do(t, e.tokens[control.RoleHelpdesk], "POST", "/api/v1/holds", `{"name":"x","users":["alice"]}`); resp.StatusCode != 403 {
		t.Fatalf("helpdesk placed a hold: %d", resp.StatusCode)
	}
	for _, bad := range []string{`{"users":["alice"]}`, `{"name":"x"}`, `{"name":"x","users":["alice@elsewhere.example"]}`,
		`{"name":"x","rooms":["conference.localhost"]}`, `{"name":"x","users":["alice"],"from":"2026-02-01T00:00:00Z","to":"2026-01-01T00:00:00Z"}`,
		`{"name":"x","users":["alice"],"owner":"me"}`} {
		if resp, body := e.do(t, compliance, "POST", "/api/v1/holds", bad); resp.StatusCode != 400 {
			t.Errorf("POST %s: %d %s, want 400", bad, resp.StatusCode, body)
		}
	}
	resp, body := e.do(t, compliance, "POST", "/api/v1/holds",
		`{"name":"matter 17","reason":"litigation","users":["alice@localhost","carol"],"rooms":["`+holdRoom+`"]}`)
	h := decode[map[string]any](t, body)
	if resp.StatusCode != 201 || h["id"] != 1.0 || h["active"] != true || fmt.Sprint(h["users"]) != "[alice@localhost carol@localhost]" ||
		!strings.HasPrefix(fmt.Sprint(h["created_by"]), "admin-token:") {
		t.Fatalf("create hold: %d %s", resp.StatusCode, body)
	}

	alice := e.srv.Online(t, "alice", "pw-alice", "phone")
	bob := e.srv.Online(t, "bob", "pw-bob", "desk")
	carol := e.srv.Online(t, "carol", "pw-carol", "pc")

	// 1:1: alice retracts a message by its origin-id (XEP-0424).
	alice.Send(`<message to='bob@localhost' type='chat' id='a1'><body>the secret plan</body><origin-id xmlns='urn:xmpp:sid:0' id='a1'/></message>`)
	alice.Send(`<message to='bob@localhost' type='chat' id='a2'><body>kept as it is</body></message>`)
	xmpptest.Eventually(t, wait, func() error {
		if got := bodies(mamArchive(t, alice, alice.Bare())); got != "the secret plan|kept as it is" {
			return fmt.Errorf("alice's archive %q", got)
		}
		return nil
	})
	alice.Send(`<message to='bob@localhost' type='chat' id='a3'><retract xmlns='urn:xmpp:message-retract:1' id='a1'/>` +
		`<fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/><body>retracted</body><store xmlns='urn:xmpp:hints'/></message>`)

	// The room: alice creates it persistent, bob joins and writes, alice
	// moderates his message (XEP-0425).
	alice.Send("<presence to='" + holdRoom + "/alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
	if _, err := alice.Expect(wait, xmpptest.Stanza("presence", "", holdRoom+"/alice")); err != nil {
		t.Fatal(err)
	}
	if res, err := alice.IQ(wait, "set", holdRoom, "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>"+
		"<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"+
		"<field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query>"); err != nil || res.Get("type") != "result" {
		t.Fatalf("persistent room: %v %v", res, err)
	}
	bob.Send("<presence to='" + holdRoom + "/bob'><x xmlns='http://jabber.org/protocol/muc'/></presence>")
	if _, err := bob.Expect(wait, xmpptest.Stanza("presence", "", holdRoom+"/bob")); err != nil {
		t.Fatal(err)
	}
	bob.Send("<message type='groupchat' to='" + holdRoom + "'><body>magic potions</body></message>")
	spam, err := alice.Expect(wait, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == holdRoom+"/bob" && el.ChildText("body", "") == "magic potions"
	})
	if err != nil {
		t.Fatal(err)
	}
	sid := spam.Child("stanza-id", "urn:xmpp:sid:0").Get("id")
	xmpptest.Eventually(t, wait, func() error {
		if got := bodies(mamArchive(t, bob, holdRoom)); got != "magic potions" {
			return fmt.Errorf("room archive %q", got)
		}
		return nil
	})
	if res, err := alice.IQ(wait, "set", holdRoom, "<moderate xmlns='urn:xmpp:message-moderate:1' id='"+sid+"'>"+
		"<retract xmlns='urn:xmpp:message-retract:1'/><reason>spam</reason></moderate>"); err != nil || res.Get("type") != "result" {
		t.Fatalf("moderation: %v %v", res, err)
	}

	// carol writes, then her account is deleted.
	carol.Send(`<message to='bob@localhost' type='chat' id='c1'><body>carol's note</body></message>`)
	xmpptest.Eventually(t, wait, func() error {
		if got := bodies(mamArchive(t, carol, carol.Bare())); got != "carol's note" {
			return fmt.Errorf("carol's archive %q", got)
		}
		return nil
	})
	if resp, body := e.do(t, e.tokens[control.RoleHelpdesk], "DELETE", "/api/v1/users/carol", ""); resp.StatusCode != 200 {
		t.Fatalf("delete carol: %d %s", resp.StatusCode, body)
	}

	// Users see tombstones, or nothing.
	xmpptest.Eventually(t, wait, func() error {
		if got := bodies(mamArchive(t, alice, alice.Bare())); got != "<retracted>|kept as it is|retracted" {
			return fmt.Errorf("alice's archive %q", got)
		}
		// The tombstone, then the moderation's own notice.
		if got := bodies(mamArchive(t, bob, holdRoom)); !strings.HasPrefix(got, "<retracted>") || strings.Contains(got, "potions") {
			return fmt.Errorf("room archive %q", got)
		}
		return nil
	})
	if got := bodies(mamArchive(t, bob, bob.Bare())); strings.Contains(got, "the secret plan") {
		t.Errorf("bob's archive still shows the retracted words: %q", got)
	}
	if md, err := e.srv.Store().ArchiveMetadata(context.Background(), "carol"); err != nil || md.LastID != "" {
		t.Errorf("carol's archive after deletion: %+v, %v; want none", md, err)
	}

	// Compliance reads the originals.
	resp, body = e.do(t, compliance, "GET", "/api/v1/held-messages", "")
	if resp.StatusCode != 200 {
		t.Fatalf("held-messages: %d %s", resp.StatusCode, body)
	}
	type held struct {
		Archive, Stanza, Cause string
	}
	page := decode[struct{ Items []held }](t, body)
	want := map[string]string{"alice@localhost": "the secret plan", holdRoom: "magic potions", "carol@localhost": "carol's note"}
	causes := map[string]string{"alice@localhost": "retracted", holdRoom: "retracted", "carol@localhost": "deleted"}
	if len(page.Items) != 3 {
		t.Fatalf("held-messages: %s; want alice's, the room's and carol's originals", body)
	}
	for _, it := range page.Items {
		if !strings.Contains(it.Stanza, "<body>"+want[it.Archive]+"</body>") || it.Cause != causes[it.Archive] {
			t.Errorf("held %+v: want the original %q, %s", it, want[it.Archive], causes[it.Archive])
		}
	}
	if resp, body := e.do(t, compliance, "GET", "/api/v1/held-messages?archive=carol@localhost&limit=1", ""); resp.StatusCode != 200 ||
		!strings.Contains(body, "carol's note") || strings.Contains(body, "secret plan") {
		t.Errorf("held-messages of carol: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do(t, e.tokens[control.RoleHelpdesk], "GET", "/api/v1/held-messages", ""); resp.StatusCode != 403 {
		t.Errorf("helpdesk read held messages: %d", resp.StatusCode)
	}

	// Release: the record stays; a second release is 404.
	resp, body = e.do(t, compliance, "POST", "/api/v1/holds/1/release", "")
	if r := decode[map[string]any](t, body); resp.StatusCode != 200 || r["active"] != false || r["released"] == nil ||
		!strings.HasPrefix(fmt.Sprint(r["released_by"]), "admin-token:") {
		t.Fatalf("release: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do(t, compliance, "POST", "/api/v1/holds/1/release", ""); resp.StatusCode != 404 {
		t.Errorf("release again: %d, want 404", resp.StatusCode)
	}
	if resp, body := e.do(t, compliance, "GET", "/api/v1/holds", ""); resp.StatusCode != 200 || !strings.Contains(body, `"name":"matter 17"`) {
		t.Errorf("list holds: %d %s", resp.StatusCode, body)
	}
	e.waitAudit(t, audit.ActionHold, func(recs []audit.Record) error {
		var ok []string
		for _, r := range recs {
			if r.Outcome == audit.OutcomeSuccess && r.Target == "hold:1" && strings.HasPrefix(r.Actor, "admin-token:") &&
				r.Details["name"] == "matter 17" && r.Details["users"] == "[alice carol]" && r.Details["rooms"] == "["+holdRoom+"]" {
				ok = append(ok, r.Details["op"]+" "+r.Details["path"])
			}
		}
		if strings.Join(ok, ", ") != "create /api/v1/holds, release /api/v1/holds/1/release" {
			return errors.New("want the hold's create and release records, got " + fmt.Sprint(recs))
		}
		return nil
	})
}
