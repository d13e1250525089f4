package admin

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"

	"parley/internal/control"
	"parley/internal/dataform"
	"parley/internal/im/adhoc"
	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/sasl"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

type fixture struct {
	t        *testing.T
	r        *router.Router
	cmds     *adhoc.Module
	accounts *imtest.Users
	deleted  []string
	sessions map[string]*imtest.Session
}

const bard = "bard@shakespeare.lit/globe"

// setup: bard is the admin; juliet (two sessions) and romeo are online.
func setup(t *testing.T) *fixture {
	f := &fixture{t: t, accounts: imtest.NewUsers(), sessions: map[string]*imtest.Session{}}
	for _, u := range []string{"bard", "juliet", "romeo", "iago"} {
		f.accounts.Put(store.User{Username: u})
	}
	f.r = router.New(jid.MustParse("shakespeare.lit"), imtest.Accounts{"bard": true, "juliet": true, "romeo": true}, nil)
	f.cmds = adhoc.New(adhoc.Options{})
	f.cmds.Register(f.r)
	ops := &control.Ops{Domain: f.r.Domain(), Users: f.accounts, Sessions: f.r}
	New(Options{Admins: []jid.JID{jid.MustParse("bard@shakespeare.lit")}, Ops: ops, Disabler: f.accounts, Commands: f.cmds,
		OnDelete: func(u string) { f.deleted = append(f.deleted, u) }}).Register(f.r)
	for _, full := range []string{bard, "juliet@shakespeare.lit/balcony", "juliet@shakespeare.lit/chamber", "romeo@shakespeare.lit/orchard"} {
		f.sessions[full] = imtest.Bind(t, f.r, full)
	}
	return f
}

// exec sends one command request.
func (f *fixture) exec(from, attrs, body string) (*xmlstream.Element, error) {
	f.t.Helper()
	raw := `<iq type='set' to='shakespeare.lit' from='` + from + `' id='a'><command xmlns='` + adhoc.NS + `' ` + attrs + `>` + body + `</command></iq>`
	return f.cmds.Handle(context.Background(), imtest.Parse(f.t, raw))
}

// run executes a command as bard and submits fields (var -> values),
// as in XEP-0133's examples; it returns the completion or the error.
func (f *fixture) run(node string, fields map[string][]string) (*xmlstream.Element, error) {
	f.t.Helper()
	res, err := f.exec(bard, `node='`+node+`' action='execute'`, "")
	if err != nil {
		return nil, err
	}
	x := res.Child("x", dataform.NS)
	if res.Get("status") != "executing" || x == nil || x.Get("type") != "form" || res.Child("actions", adhoc.NS) != nil {
		f.t.Fatalf("%s form: %s", node, res)
	}
	if form, err := dataform.Parse(x, dataform.Limits{}); err != nil || form.FormType() != NS {
		f.t.Fatalf("%s form type: %s", node, x)
	}
	return f.exec(bard, `node='`+node+`' sessionid='`+res.Get("sessionid")+`'`, SubmitForm(fields))
}

// SubmitForm is a command's form submitting fields (var -> values); the
// integration tests (package admin_test) use it too.
func SubmitForm(fields map[string][]string) string {
	form := dataform.New(dataform.TypeSubmit, NS)
	for k, vs := range fields {
		form.Fields = append(form.Fields, dataform.NewField(k, "", "", vs...))
	}
	return string(xmlstream.Append(nil, form.Element()))
}

// password tells whether name's stored keys are those of pw.
func (f *fixture) password(name, pw string) bool {
	u, ok := f.accounts.User(name)
	if !ok {
		return false
	}
	k, err := sasl.DeriveKeys(sasl.SHA256, pw, u.SHA256.Salt, u.SHA256.Iterations)
	return err == nil && bytes.Equal(k.StoredKey, u.SHA256.StoredKey)
}

func (f *fixture) has(name string) bool {
	_, ok := f.accounts.User(name)
	return ok
}

func (f *fixture) disabled(name string) bool {
	u, _ := f.accounts.User(name)
	return u.Disabled
}

// notes returns a completion's notes as "type: text".
func notes(res *xmlstream.Element) []string {
	var out []string
	for _, n := range res.Children {
		if n.Name == "note" {
			out = append(out, n.Get("type")+": "+n.Text)
		}
	}
	return out
}

// done runs a command and checks that it completed with the notes.
func (f *fixture) done(node string, fields map[string][]string, want ...string) {
	f.t.Helper()
	res, err := f.run(node, fields)
	f.completed(res, err, want...)
}

func (f *fixture) completed(res *xmlstream.Element, err error, want ...string) {
	f.t.Helper()
	if err != nil || res.Get("status") != "completed" {
		f.t.Fatalf("got %v %v", res, err)
	}
	if got := notes(res); want != nil && !slices.Equal(got, want) {
		f.t.Fatalf("notes %q, want %q", got, want)
	}
}

func condition(err error) string {
	var se *stanza.Error
	if !errors.As(err, &se) {
		return ""
	}
	s := se.Condition()
	for _, c := range se.Element().Children {
		if c.Space == adhoc.NS {
			s += "/" + c.Name
		}
	}
	return s
}

// TestOnlyAdmins: XEP-0133 §7 and §5, a non-admin neither sees nor runs
// the commands.
func TestOnlyAdmins(t *testing.T) {
	f := setup(t)
	if _, err := f.exec("romeo@shakespeare.lit/orchard", `node='`+NodeAddUser+`' action='execute'`, ""); condition(err) != "forbidden" {
		t.Fatalf("romeo: %v", err)
	}
	list := func(from string) int {
		iq := imtest.Parse(t, `<iq type='get' to='shakespeare.lit' from='`+from+`' id='d'><query xmlns='http://jabber.org/protocol/disco#items' node='`+adhoc.NS+`'/></iq>`)
		res, _, err := f.cmds.DiscoNode(context.Background(), iq, adhoc.NS)
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Children)
	}
	if n := list("romeo@shakespeare.lit/orchard"); n != 0 {
		t.Fatalf("romeo sees %d commands", n)
	}
	if n := list(bard); n != 9 {
		t.Fatalf("bard sees %d commands", n)
	}
}

// TestAddAndChangePassword: §4.1 and §4.7.
func TestAddAndChangePassword(t *testing.T) {
	f := setup(t)
	f.done(NodeAddUser, map[string][]string{"accountjid": {"Juliet2@shakespeare.lit"}, "password": {"R0m30"}, "password-verify": {"R0m30"}},
		"info: juliet2@shakespeare.lit: created")
	if !f.password("juliet2", "R0m30") {
		t.Fatal("juliet2 lacks the password")
	}
	for i, tc := range []struct {
		fields map[string][]string
		want   string
	}{
		{map[string][]string{"accountjid": {"juliet2@shakespeare.lit"}, "password": {"x"}, "password-verify": {"x"}}, "conflict"},
		{map[string][]string{"accountjid": {"nurse@shakespeare.lit"}, "password": {"x"}, "password-verify": {"y"}}, "bad-request/bad-payload"},
		{map[string][]string{"accountjid": {"nurse@capulet.com"}, "password": {"x"}}, "bad-request/bad-payload"},
		{map[string][]string{"accountjid": {"nurse@shakespeare.lit"}}, "bad-request/bad-payload"},
		{map[string][]string{"accountjid": {"@@"}, "password": {"x"}}, "bad-request/bad-payload"},
	} {
		if _, err := f.run(NodeAddUser, tc.fields); condition(err) != tc.want {
			t.Errorf("%d: %v, want %s", i, err, tc.want)
		}
	}
	// As `parley user passwd`: the sessions that logged in with the old
	// password end, but not the admin's own when that is the account.
	f.done(NodeChangeUserPassword, map[string][]string{"accountjid": {"juliet@shakespeare.lit"}, "password": {"V3r0n4"}},
		"info: juliet@shakespeare.lit: password changed, 2 sessions ended")
	if !f.password("juliet", "V3r0n4") || f.sessions["juliet@shakespeare.lit/balcony"].Ended() != "not-authorized" {
		t.Fatal("password unchanged or sessions kept")
	}
	f.done(NodeChangeUserPassword, map[string][]string{"accountjid": {"bard@shakespeare.lit"}, "password": {"0th3110"}},
		"info: bard@shakespeare.lit: password changed, 0 sessions ended")
	if !f.password("bard", "0th3110") || f.sessions[bard].Ended() != "" {
		t.Fatal("the admin's own password")
	}
	if _, err := f.run(NodeChangeUserPassword, map[string][]string{"accountjid": {"nurse@shakespeare.lit"}, "password": {"x"}}); condition(err) != "item-not-found" {
		t.Fatalf("unknown account: %v", err)
	}
}

// TestDeleteDisableEnd: §4.2-4.5 act on the running sessions.
func TestDeleteDisableEnd(t *testing.T) {
	f := setup(t)
	f.done(NodeDisableUser, map[string][]string{"accountjids": {"juliet@shakespeare.lit", "nurse@shakespeare.lit"}},
		"info: juliet@shakespeare.lit: disabled, 2 sessions ended", "error: nurse@shakespeare.lit: no such account")
	if !f.disabled("juliet") || f.sessions["juliet@shakespeare.lit/balcony"].Ended() != "not-authorized" ||
		f.sessions["juliet@shakespeare.lit/chamber"].Ended() != "not-authorized" || f.sessions["romeo@shakespeare.lit/orchard"].Ended() != "" {
		t.Fatal("disable")
	}
	f.done(NodeReenableUser, map[string][]string{"accountjids": {"juliet@shakespeare.lit"}}, "info: juliet@shakespeare.lit: re-enabled")
	if f.disabled("juliet") {
		t.Fatal("still disabled")
	}
	// A full JID ends that session only; the user may come back.
	s2 := imtest.Bind(t, f.r, "romeo@shakespeare.lit/ball")
	f.done(NodeEndUserSession, map[string][]string{"accountjids": {"romeo@shakespeare.lit/ball"}}, "info: romeo@shakespeare.lit/ball: 1 sessions ended")
	if s2.Ended() != "policy-violation" || f.sessions["romeo@shakespeare.lit/orchard"].Ended() != "" {
		t.Fatal("end one session")
	}
	f.r.Unbind(context.Background(), s2) // as c2s does once the stream closed
	f.done(NodeDeleteUser, map[string][]string{"accountjids": {"romeo@shakespeare.lit"}}, "info: romeo@shakespeare.lit: deleted, its sessions ended")
	if f.has("romeo") || f.sessions["romeo@shakespeare.lit/orchard"].Ended() != "not-authorized" || !slices.Equal(f.deleted, []string{"romeo"}) {
		t.Fatalf("delete: %v", f.deleted)
	}
	if _, err := f.run(NodeDeleteUser, map[string][]string{"accountjids": {"iago@shakespeare.lit/x"}}); condition(err) != "bad-request/bad-payload" {
		t.Fatalf("a full JID to delete: %v", err)
	}
	if !f.has("iago") {
		t.Fatal("a refused submission deleted")
	}
	if _, err := f.run(NodeDisableUser, nil); condition(err) != "bad-request/bad-payload" {
		t.Fatalf("no accounts: %v", err)
	}
}

// TestOnlineAndAnnounce: §4.16, §4.21, §4.23.
func TestOnlineAndAnnounce(t *testing.T) {
	f := setup(t)
	res, err := f.exec(bard, `node='`+NodeOnlineUsersNum+`' action='execute'`, "")
	f.completed(res, err)
	if x, _ := dataform.Parse(res.Child("x", dataform.NS), dataform.Limits{}); x == nil || x.Type != "result" || x.Values("onlineusersnum")[0] != "3" {
		t.Fatalf("num: %s", res)
	}
	list := func(max string) ([]string, []string) {
		res, err := f.run(NodeOnlineUsersList, map[string][]string{"max_items": {max}})
		f.completed(res, err)
		x, _ := dataform.Parse(res.Child("x", dataform.NS), dataform.Limits{})
		return x.Values("onlineuserjids"), notes(res)
	}
	if got, n := list("none"); !slices.Equal(got, []string{"bard@shakespeare.lit", "juliet@shakespeare.lit", "romeo@shakespeare.lit"}) || n != nil {
		t.Fatalf("list: %q %q", got, n)
	}
	if got, n := list("2"); len(got) != 2 || !slices.Equal(n, []string{"warn: the first 2 of 3 online users"}) {
		t.Fatalf("list of 2: %q %q", got, n)
	}
	if _, err := f.run(NodeOnlineUsersList, map[string][]string{"max_items": {"lots"}}); condition(err) != "bad-request/bad-payload" {
		t.Fatalf("bad max_items: %v", err)
	}
	for _, s := range f.sessions {
		s.Take()
	}
	f.done(NodeAnnounce, map[string][]string{"announcement": {"Attention! This service will be going down for", "maintenance in 2 minutes."}},
		"info: sent to 4 sessions")
	for full, s := range f.sessions {
		got := s.Take()
		if len(got) != 1 || got[0].Type != "headline" || got[0].From.String() != "shakespeare.lit" ||
			got[0].El.ChildText("body", "") != "Attention! This service will be going down for\nmaintenance in 2 minutes." {
			t.Fatalf("%s got %v", full, got)
		}
	}
	if _, err := f.run(NodeAnnounce, map[string][]string{"announcement": {" "}}); condition(err) != "bad-request/bad-payload" {
		t.Fatalf("empty announcement: %v", err)
	}
}
