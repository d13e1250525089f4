package interop

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// publish is what slix_push.py printed for one publish it received.
type publish struct {
	Node    string            `json:"node"`
	From    string            `json:"from"`
	Summary map[string]string `json:"summary"`
	Secret  string            `json:"secret"`
}

// TestSlixmppPushAppServer (XEP-0357) with a real app server: slixmpp,
// logged in as push@localhost/app, answers the publishes. The phone
// enables push for two nodes (one the app server refuses) with a secret in
// its publish-options; a message while it is online is not pushed; once
// its connection is gone with XEP-0198 waiting for a resumption, a message
// is published to both nodes from the phone's bare JID with the summary
// form (count, sender, and the body, which this site allows), and the
// refused registration is disabled.
func TestSlixmppPushAppServer(t *testing.T) {
	const wait = 20 * time.Second
	requireSlixmpp(t)
	srv := testserver.Start(t, func(c *config.Config) { c.Push.IncludeBody = true })
	srv.AddUsers(t, password, "phone", "romeo", "push")
	host, port := hostPort(t, srv.C2S())
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	app := exec.CommandContext(ctx, python, "slix_push.py", host, port, "push@localhost/app", password)
	stdin, err := app.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	app.Stderr = &stderr
	lines := startLines(t, app)
	defer func() {
		stdin.Close()
		app.Wait()
	}()
	next := func(prefix string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok || !strings.HasPrefix(l, prefix) {
				t.Fatalf("app server said %q, want %s; stderr:\n%s", l, prefix, stderr.String())
			}
			return strings.TrimSpace(strings.TrimPrefix(l, prefix))
		case <-time.After(40 * time.Second):
			t.Fatalf("no %s from the app server; stderr:\n%s", prefix, stderr.String())
		}
		return ""
	}
	next("READY")

	phone, err := xmpptest.Dial(ctx, srv.C2S(), xmpptest.Options{User: "phone", Password: password, Resource: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer phone.Kill()
	phone.Send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
	if _, err := phone.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "enabled" }); err != nil {
		t.Fatal(err)
	}
	phone.Send("<presence/>")
	// §4: the account advertises push.
	info, err := phone.IQ(wait, "get", "phone@localhost", "<query xmlns='http://jabber.org/protocol/disco#info'/>")
	if err != nil {
		t.Fatal(err)
	}
	advertised := false
	if q := info.Child("query", "http://jabber.org/protocol/disco#info"); q != nil {
		for _, f := range q.Children {
			advertised = advertised || f.Name == "feature" && f.Get("var") == "urn:xmpp:push:0"
		}
	}
	if !advertised {
		t.Fatalf("urn:xmpp:push:0 not in the account's disco#info: %s", info)
	}
	for _, node := range []string{"dev1", "refuse1"} {
		a, err := phone.IQ(wait, "set", "", "<enable xmlns='urn:xmpp:push:0' jid='push@localhost/app' node='"+node+"'>"+
			"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>"+
			"<field var='secret'><value>s3cr3t</value></field></x></enable>")
		if err != nil || a.Get("type") != "result" {
			t.Fatalf("enable %s: %v %s", node, err, a)
		}
	}
	romeo, err := xmpptest.Dial(ctx, srv.C2S(), xmpptest.Options{User: "romeo", Password: password, Resource: "r"})
	if err != nil {
		t.Fatal(err)
	}
	defer romeo.Close()
	romeo.Send("<message to='phone@localhost' type='chat'><body>while online</body></message>")
	if _, err := phone.Expect(wait, func(el *xmlstream.Element) bool { return el.ChildText("body", "") == "while online" }); err != nil {
		t.Fatal(err)
	}
	// The phone acknowledges everything it has (XEP-0198): a message left
	// unacknowledged when the session hibernates is pushed too, as it may
	// never have reached the device. Handled so far: the disco#info
	// result, the two enable results and the message, plus whatever else
	// stanza came (its own presence); then a ping's answer proves the ack
	// was taken.
	handled := 4
	for {
		el, err := phone.Recv(200 * time.Millisecond)
		if err != nil {
			break
		}
		if el.Name == "message" || el.Name == "presence" || el.Name == "iq" {
			handled++
		}
	}
	phone.Send("<a xmlns='urn:xmpp:sm:3' h='" + strconv.Itoa(handled) + "'/>")
	if _, err := phone.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil {
		t.Fatal(err)
	}

	// The connection goes; the session waits for a resumption.
	phone.Kill()
	full := jid.MustParse("phone@localhost/p")
	xmpptest.Eventually(t, wait, func() error {
		res, ok := srv.Router().Lookup(full)
		if h, hib := res.Session.(router.Hibernating); !ok || !hib || !h.Hibernated() {
			return errors.New("the phone's session is not hibernating")
		}
		return nil
	})
	romeo.Send("<message to='phone@localhost' type='chat'><body>while away</body></message>")
	got := map[string]publish{}
	for range 2 {
		var p publish
		if err := json.Unmarshal([]byte(next("PUBLISH")), &p); err != nil {
			t.Fatal(err)
		}
		got[p.Node] = p
	}
	for _, node := range []string{"dev1", "refuse1"} {
		p := got[node]
		want := map[string]string{"FORM_TYPE": "urn:xmpp:push:summary", "message-count": "1",
			"last-message-sender": "romeo@localhost", "last-message-body": "while away"}
		if p.From != "phone@localhost" || p.Secret != "s3cr3t" || len(p.Summary) != len(want) {
			t.Fatalf("publish to %s: %+v, want from phone@localhost with the secret and %v (nothing pushed while online)", node, p, want)
		}
		for k, v := range want {
			if p.Summary[k] != v {
				t.Fatalf("publish to %s: %s = %q, want %q", node, k, p.Summary[k], v)
			}
		}
	}
	xmpptest.Eventually(t, wait, func() error {
		regs, err := srv.Store().PushRegistrations(context.Background(), "phone")
		if err != nil || len(regs) != 1 || regs[0].Node != "dev1" {
			return errors.New("registrations are not just dev1 after the app server refused refuse1")
		}
		return nil
	})
}
