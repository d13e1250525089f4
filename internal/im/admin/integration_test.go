package admin_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/im/adhoc"
	"parley/internal/im/admin"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const wait = 10 * time.Second

// run executes a command over c and submits the fields; it returns the
// completion (or error) stanza.
func run(t *testing.T, c *xmpptest.Client, node string, fields map[string][]string) *xmlstream.Element {
	t.Helper()
	res, err := c.IQ(wait, "set", "localhost", `<command xmlns='`+adhoc.NS+`' node='`+node+`' action='execute'/>`)
	if err != nil {
		t.Fatal(err)
	}
	if res.Get("type") != "result" {
		return res
	}
	cmd := res.FirstChild()
	if cmd.Get("status") == "completed" {
		return res
	}
	var b strings.Builder
	b.WriteString(`<x xmlns='jabber:x:data' type='submit'><field type='hidden' var='FORM_TYPE'><value>` + admin.NS + `</value></field>`)
	for k, vs := range fields {
		b.WriteString(`<field var='` + k + `'>`)
		for _, v := range vs {
			b.WriteString(`<value>` + v + `</value>`)
		}
		b.WriteString(`</field>`)
	}
	b.WriteString(`</x>`)
	res, err = c.IQ(wait, "set", "localhost", `<command xmlns='`+adhoc.NS+`' node='`+node+`' sessionid='`+cmd.Get("sessionid")+`'>`+b.String()+`</command>`)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func completed(t *testing.T, res *xmlstream.Element) *xmlstream.Element {
	t.Helper()
	if res.Get("type") != "result" || res.FirstChild().Get("status") != "completed" {
		t.Fatalf("not completed: %s", res)
	}
	return res.FirstChild()
}

// values returns a result form's values of a field.
func values(cmd *xmlstream.Element, name string) []string {
	var out []string
	if x := cmd.Child("x", "jabber:x:data"); x != nil {
		for _, f := range x.Children {
			if f.Get("var") == name {
				for _, v := range f.Children {
					out = append(out, v.Text)
				}
			}
		}
	}
	return out
}

// TestServiceAdministrationOverTCP: a site admin of the configuration
// runs the XEP-0133 commands over a real connection and they act on the
// running server; another user is forbidden.
func TestServiceAdministrationOverTCP(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) {
		c.Admins = []string{"boss@localhost"}
		c.Limits.AuthFailuresBeforeBackoff = 100
	})
	srv.AddUser(t, "boss", "admin pass 1")
	srv.AddUser(t, "victim", "victim pass 1")
	boss := srv.Online(t, "boss", "admin pass 1", "desk")
	victim := srv.Online(t, "victim", "victim pass 1", "phone")
	login := func(user, pass string) (*xmpptest.Client, error) {
		c, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{User: user, Password: pass, Resource: "r"})
		if err == nil {
			t.Cleanup(func() { c.Close() })
			err = c.SendPresence()
		}
		return c, err
	}
	authFails := func(user, pass, cond string) {
		t.Helper()
		_, err := login(user, pass)
		var ae *xmpptest.AuthError
		if !errors.As(err, &ae) || ae.Condition != cond {
			t.Fatalf("login %s: %v, want %s", user, err, cond)
		}
	}
	streamEnds := func(c *xmpptest.Client, cond string) {
		t.Helper()
		el, err := c.Expect(wait, xmpptest.IsStreamError)
		if err != nil || xmpptest.StreamErrorCondition(el) != cond {
			t.Fatalf("stream error %v %v, want %s", el, err, cond)
		}
	}

	// Not for users.
	if res := run(t, victim, admin.NodeAddUser, nil); xmpptest.StanzaErrorCondition(res) != "forbidden" {
		t.Fatalf("a user runs add-user: %s", res)
	}

	// add-user, then the new account logs in; change-user-password.
	completed(t, run(t, boss, admin.NodeAddUser, map[string][]string{"accountjid": {"newbie@localhost"}, "password": {"first pass 1"}, "password-verify": {"first pass 1"}}))
	newbie, err := login("newbie", "first pass 1")
	if err != nil {
		t.Fatalf("the added account: %v", err)
	}
	completed(t, run(t, boss, admin.NodeChangeUserPassword, map[string][]string{"accountjid": {"newbie@localhost"}, "password": {"second pass 2"}}))
	streamEnds(newbie, "not-authorized") // logged in with the old password
	authFails("newbie", "first pass 1", "not-authorized")
	if _, err := login("newbie", "second pass 2"); err != nil {
		t.Fatalf("the new password: %v", err)
	}

	// Online users, number and list.
	xmpptest.Eventually(t, wait, func() error {
		if got := values(completed(t, run(t, boss, admin.NodeOnlineUsersNum, nil)), "onlineusersnum"); len(got) != 1 || got[0] != "3" {
			return errors.New("online users num: " + strings.Join(got, ","))
		}
		return nil
	})
	if got := values(completed(t, run(t, boss, admin.NodeOnlineUsersList, map[string][]string{"max_items": {"none"}})), "onlineuserjids"); strings.Join(got, " ") != "boss@localhost newbie@localhost victim@localhost" {
		t.Fatalf("online users list: %q", got)
	}

	// announce reaches the sessions.
	completed(t, run(t, boss, admin.NodeAnnounce, map[string][]string{"announcement": {"Going down at noon."}}))
	if _, err := victim.Expect(wait, xmpptest.MessageBody("Going down at noon.")); err != nil {
		t.Fatalf("announcement: %v", err)
	}

	// end-user-session: the stream ends, for good even with stream
	// management (no resumption), and the user may come back.
	if err := victim.Send(`<enable xmlns='urn:xmpp:sm:3' resume='true'/>`); err != nil {
		t.Fatal(err)
	}
	enabled, err := victim.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "enabled" })
	if err != nil || enabled.Get("id") == "" {
		t.Fatalf("sm: %v %v", enabled, err)
	}
	completed(t, run(t, boss, admin.NodeEndUserSession, map[string][]string{"accountjids": {"victim@localhost"}}))
	streamEnds(victim, "policy-violation")
	again, err := xmpptest.Dial(context.Background(), srv.C2S(), xmpptest.Options{User: "victim", Password: "victim pass 1", NoBind: true})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	again.Send(`<resume xmlns='urn:xmpp:sm:3' previd='` + enabled.Get("id") + `' h='0'/>`)
	if el, err := again.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "resumed" || el.Name == "failed" }); err != nil || el.Name != "failed" {
		t.Fatalf("resuming an ended session: %v %v", el, err)
	}
	victim, err = login("victim", "victim pass 1")
	if err != nil {
		t.Fatalf("back after end-user-session: %v", err)
	}

	// disable-user: the stream ends and logins fail until re-enabled.
	completed(t, run(t, boss, admin.NodeDisableUser, map[string][]string{"accountjids": {"victim@localhost"}}))
	streamEnds(victim, "not-authorized")
	authFails("victim", "victim pass 1", "account-disabled")
	completed(t, run(t, boss, admin.NodeReenableUser, map[string][]string{"accountjids": {"victim@localhost"}}))
	victim, err = login("victim", "victim pass 1")
	if err != nil {
		t.Fatalf("re-enabled: %v", err)
	}

	// delete-user: the stream ends and the account is gone.
	completed(t, run(t, boss, admin.NodeDeleteUser, map[string][]string{"accountjids": {"victim@localhost"}}))
	streamEnds(victim, "not-authorized")
	authFails("victim", "victim pass 1", "not-authorized")
	if _, err := srv.Store().GetUser(context.Background(), "victim"); err == nil {
		t.Fatal("the deleted account is still stored")
	}
}
