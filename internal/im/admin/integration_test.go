package admin_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/im/adhoc"
	"parley/internal/im/admin"
	"parley/internal/store"
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
	res, err = c.IQ(wait, "set", "localhost", `<command xmlns='`+adhoc.NS+`' node='`+node+`' sessionid='`+cmd.Get("sessionid")+`'>`+admin.SubmitForm(fields)+`</command>`)
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

	// Each change is in the audit log, by boss, in order.
	want := []string{"account-created newbie@localhost", "password-changed newbie@localhost",
		"session-ended-by-admin victim@localhost", "account-disabled victim@localhost",
		"account-enabled victim@localhost", "account-deleted victim@localhost"}
	xmpptest.Eventually(t, wait, func() error {
		recs, err := srv.Store().AuditRecords(context.Background(), store.AuditQuery{Actor: "boss@localhost"})
		if err != nil {
			return err
		}
		var got []string
		for _, r := range recs {
			if r.Action == audit.ActionLogin {
				continue
			}
			if r.Outcome != audit.OutcomeSuccess || r.Details["via"] != "xep-0133" {
				return fmt.Errorf("record %+v", r)
			}
			got = append(got, r.Action+" "+r.Target)
		}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			return fmt.Errorf("audit: %q", got)
		}
		return nil
	})
}

// TestAccountReportsOverTCP: the reading commands (§4.8-4.10, 4.13,
// 4.14, 4.16, 4.18, 4.19, 4.21) over a real connection against the
// real store and session table; a user is forbidden each; what the
// admin changes is in the audit log with the admin as the actor.
func TestAccountReportsOverTCP(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) { c.Admins = []string{"boss@localhost"} })
	for _, u := range []string{"boss", "alice", "bob", "carol"} {
		srv.AddUser(t, u, u+" pass 1")
	}
	ctx := context.Background()
	if _, err := srv.Store().PutRosterItem(ctx, "alice", store.RosterItem{JID: "bob@localhost", Name: "Bob", Groups: []string{"Friends"}, Subscription: store.SubBoth}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Store().PutRosterItem(ctx, "alice", store.RosterItem{JID: "eve@localhost", PendingIn: true, Hidden: true}); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	boss := srv.Online(t, "boss", "boss pass 1", "desk")
	alice := srv.Online(t, "alice", "alice pass 1", "phone")
	// bob is online without presence: not active.
	bob, err := xmpptest.Dial(ctx, srv.C2S(), xmpptest.Options{User: "bob", Password: "bob pass 1", Resource: "tablet"})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()

	for _, node := range []string{admin.NodeUserRoster, admin.NodeUserLastLogin, admin.NodeUserStats, admin.NodeRegisteredNum,
		admin.NodeDisabledNum, admin.NodeActiveNum, admin.NodeRegisteredList, admin.NodeDisabledList, admin.NodeActiveList,
		admin.NodeIdleNum, admin.NodeIdleList} {
		if res := run(t, alice, node, nil); xmpptest.StanzaErrorCondition(res) != "forbidden" {
			t.Fatalf("a user runs %s: %s", node, res)
		}
	}
	one := func(node string, fields map[string][]string, field string) []string {
		t.Helper()
		return values(completed(t, run(t, boss, node, fields)), field)
	}
	none := map[string][]string{"max_items": {"none"}}

	if got := one(admin.NodeRegisteredNum, nil, "registeredusersnum"); strings.Join(got, "") != "4" {
		t.Fatalf("registered users: %q", got)
	}
	if got := one(admin.NodeRegisteredList, none, "registereduserjids"); strings.Join(got, " ") != "alice@localhost bob@localhost boss@localhost carol@localhost" {
		t.Fatalf("registered list: %q", got)
	}
	cut := completed(t, run(t, boss, admin.NodeRegisteredList, map[string][]string{"max_items": {"2"}}))
	if got := values(cut, "registereduserjids"); len(got) != 2 || cut.Child("note", adhoc.NS) == nil {
		t.Fatalf("registered list of 2: %s", cut)
	}
	if got := one(admin.NodeDisabledNum, nil, "disabledusersnum"); strings.Join(got, "") != "0" {
		t.Fatalf("disabled users: %q", got)
	}
	completed(t, run(t, boss, admin.NodeDisableUser, map[string][]string{"accountjids": {"carol@localhost"}}))
	if got := one(admin.NodeDisabledNum, nil, "disabledusersnum"); strings.Join(got, "") != "1" {
		t.Fatalf("disabled users: %q", got)
	}
	if got := one(admin.NodeDisabledList, none, "disableduserjids"); strings.Join(got, " ") != "carol@localhost" {
		t.Fatalf("disabled list: %q", got)
	}
	xmpptest.Eventually(t, wait, func() error {
		if got := one(admin.NodeActiveNum, nil, "activeusersnum"); strings.Join(got, "") != "2" {
			return errors.New("active users: " + strings.Join(got, ","))
		}
		return nil
	})
	if got := one(admin.NodeActiveList, none, "activeuserjids"); strings.Join(got, " ") != "alice@localhost boss@localhost" {
		t.Fatalf("active list: %q", got)
	}
	if got := one(admin.NodeIdleNum, nil, "idleusersnum"); strings.Join(got, "") != "1" {
		t.Fatalf("idle users: %q", got)
	}
	if got := one(admin.NodeIdleList, none, "idleuserjids"); strings.Join(got, " ") != "bob@localhost" {
		t.Fatalf("idle list: %q", got)
	}

	// The roster, inside the result form, without the hidden item, as
	// stored (logins may have reconciled the subscription meanwhile).
	stored, _, err := srv.Store().Roster(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	sub := ""
	for _, it := range stored {
		if it.JID == "bob@localhost" {
			sub = it.Subscription
		}
	}
	cmd := completed(t, run(t, boss, admin.NodeUserRoster, map[string][]string{"accountjids": {"alice@localhost"}}))
	q := cmd.Child("x", "jabber:x:data").Child("query", "jabber:iq:roster")
	if q == nil || len(q.Children) != 1 || q.Children[0].Get("jid") != "bob@localhost" || q.Children[0].Get("name") != "Bob" ||
		q.Children[0].Get("subscription") != sub || q.Children[0].ChildText("group", "jabber:iq:roster") != "Friends" {
		t.Fatalf("alice's roster: %s", cmd)
	}
	// Last login: alice's, from the audit log or her session; none for carol.
	got := one(admin.NodeUserLastLogin, map[string][]string{"accountjids": {"alice@localhost"}}, "lastlogin")
	if len(got) != 1 {
		t.Fatalf("alice's last login: %q", got)
	}
	if at, err := time.Parse(time.RFC3339, got[0]); err != nil || at.Before(before.Truncate(time.Second)) || at.After(time.Now()) {
		t.Fatalf("alice's last login %q (%v), want since %v", got[0], err, before)
	}
	cmd = completed(t, run(t, boss, admin.NodeUserLastLogin, map[string][]string{"accountjids": {"carol@localhost"}}))
	if values(cmd, "lastlogin") != nil || cmd.ChildText("note", adhoc.NS) != "carol@localhost: no login recorded" {
		t.Fatalf("carol's last login: %s", cmd)
	}
	// Statistics.
	cmd = completed(t, run(t, boss, admin.NodeUserStats, map[string][]string{"accountjid": {"alice@localhost"}}))
	if strings.Join(values(cmd, "rostersize"), "") != "1" || strings.Join(values(cmd, "onlineresources"), " ") != "phone" ||
		strings.Join(values(cmd, "ipaddresses"), " ") != "127.0.0.1" {
		t.Fatalf("alice's statistics: %s", cmd)
	}
	// Errors: an unknown account, two at once, another domain.
	for i, tc := range []struct {
		node   string
		fields map[string][]string
		want   string
	}{
		{admin.NodeUserRoster, map[string][]string{"accountjids": {"nobody@localhost"}}, "item-not-found"},
		{admin.NodeUserStats, map[string][]string{"accountjid": {"nobody@localhost"}}, "item-not-found"},
		{admin.NodeUserLastLogin, map[string][]string{"accountjids": {"alice@localhost", "bob@localhost"}}, "bad-request"},
		{admin.NodeUserRoster, map[string][]string{"accountjids": {"alice@example.org"}}, "bad-request"},
		{admin.NodeRegisteredList, map[string][]string{"max_items": {"-1"}}, "bad-request"},
	} {
		if res := run(t, boss, tc.node, tc.fields); xmpptest.StanzaErrorCondition(res) != tc.want {
			t.Errorf("%d: %s, want %s", i, res, tc.want)
		}
	}

	// The audit log has the disabling, by boss.
	xmpptest.Eventually(t, wait, func() error {
		recs, err := srv.Store().AuditRecords(ctx, store.AuditQuery{Actor: "boss@localhost", Action: audit.ActionAccountDisabled})
		if err != nil {
			return err
		}
		if len(recs) != 1 || recs[0].Target != "carol@localhost" || recs[0].Outcome != audit.OutcomeSuccess || recs[0].Details["via"] != "xep-0133" {
			return fmt.Errorf("audit records %+v", recs)
		}
		return nil
	})
}
