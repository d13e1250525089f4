package adhoc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"parley/internal/clock"
	"parley/internal/dataform"
	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// configCommand is the two-stage "config" command of XEP-0050 §3.4's
// examples: pick a service (next), then its run modes and state (prev or
// complete), then a note.
func configCommand() Command {
	stage1 := func(s *Session) Response {
		s.Stage = 1
		f := dataform.New(dataform.TypeForm, "", dataform.ListField("service", "Service", "", "httpd", "jabberd", "postgresql"))
		f.Title = "Configure Service"
		return Response{Status: Executing, Actions: []Action{Next}, Default: Next, Form: f}
	}
	return Command{Node: "config", Name: "Configure Service",
		Run: func(_ context.Context, s *Session, req Request) (Response, error) {
			switch {
			case req.Action == Execute || req.Action == Prev:
				return stage1(s), nil
			case s.Stage == 1 && req.Action == Next:
				svc, err := req.Form.Value("service")
				if err != nil || svc == "" {
					return Response{}, ErrBadPayload.WithText("pick a service")
				}
				s.Stage, s.State = 2, svc
				f := dataform.New(dataform.TypeForm, "", dataform.ListField("state", "Run State", "off", "off", "on"))
				return Response{Status: Executing, Actions: []Action{Prev, Complete}, Default: Complete, Form: f}, nil
			case s.Stage == 2 && req.Action == Complete:
				return Response{Status: Completed, Notes: []Note{{Text: "Service '" + s.State.(string) + "' has been configured."}}}, nil
			}
			return Response{}, fmt.Errorf("unexpected %s at stage %d", req.Action, s.Stage)
		}}
}

// single completes at once, with no actions (§3.3).
func single() Command {
	return Command{Node: "list", Name: "List Service",
		Run: func(context.Context, *Session, Request) (Response, error) {
			return Response{Status: Completed, Form: dataform.New(dataform.TypeResult, "", dataform.NewField("n", "", "", "3"))}, nil
		}}
}

// oneForm shows a form with no <actions/>: its submission completes (§3.4, §5.4).
func oneForm() Command {
	return Command{Node: "one", Name: "One Form",
		Run: func(_ context.Context, s *Session, req Request) (Response, error) {
			if req.Action == Execute {
				return Response{Status: Executing, Form: dataform.New(dataform.TypeForm, "", dataform.NewField("x", "", ""))}, nil
			}
			return Response{Status: Completed}, nil
		}}
}

func newModule(t *testing.T, clk clock.Clock, max int) *Module {
	m, _ := newModuleRouter(t, clk, max)
	return m
}

func newModuleRouter(t *testing.T, clk clock.Clock, max int) (*Module, *router.Router) {
	t.Helper()
	m := New(Options{Clock: clk, MaxSessions: max, SessionTTL: time.Minute})
	r := router.New(jid.MustParse("example.com"), imtest.Accounts{"admin": true, "user": true}, nil)
	m.Register(r)
	m.Add(configCommand())
	m.Add(single())
	m.Add(oneForm())
	m.Add(Command{Node: "secret", Name: "Admins only", Allowed: func(j jid.JID) bool { return j.Local() == "admin" },
		Run: func(context.Context, *Session, Request) (Response, error) { return Response{Status: Completed}, nil }})
	return m, r
}

// exec sends a command IQ from a full JID and returns the result payload
// or the error.
func exec(t *testing.T, m *Module, from, attrs, body string) (*xmlstream.Element, error) {
	t.Helper()
	raw := `<iq type='set' to='example.com' from='` + from + `' id='x'><command xmlns='` + NS + `' ` + attrs + `>` + body + `</command></iq>`
	return m.Handle(context.Background(), imtest.Parse(t, raw))
}

// app returns the specific condition of a commands error (§4.6).
func app(err error) string {
	var se *stanza.Error
	if !errors.As(err, &se) {
		return ""
	}
	for _, c := range se.Element().Children {
		if c.Space == NS {
			return c.Name
		}
	}
	return ""
}

// actions summarises a result: status, then <actions/> as "execute=x:a,b".
func actions(el *xmlstream.Element) string {
	s := el.Get("status")
	if a := el.Child("actions", NS); a != nil {
		s += " execute=" + a.Get("execute") + ":"
		for i, c := range a.Children {
			if i > 0 {
				s += ","
			}
			s += c.Name
		}
	}
	return s
}

const admin, user = "admin@example.com/desk", "user@example.com/phone"

// TestMultiStage follows XEP-0050 §3.4's examples: execute, submit
// (execute = the stage's default), prev, complete with a note; then the
// finished session is gone.
func TestMultiStage(t *testing.T) {
	m := newModule(t, nil, 0)
	res, err := exec(t, m, user, `node='config' action='execute'`, "")
	if err != nil {
		t.Fatal(err)
	}
	id := res.Get("sessionid")
	if id == "" || res.Get("node") != "config" || actions(res) != "executing execute=next:next" {
		t.Fatalf("stage 1: %s", res)
	}
	if x := res.Child("x", dataform.NS); x == nil || x.Get("type") != "form" || x.ChildText("title", dataform.NS) != "Configure Service" {
		t.Fatalf("stage 1 form: %s", res)
	}
	sub := `<x xmlns='jabber:x:data' type='submit'><field var='service'><value>httpd</value></field></x>`
	steps := []struct {
		attrs, body, want string
	}{
		0: {`sessionid='` + id + `' node='config'`, sub, "executing execute=complete:prev,complete"},
		1: {`sessionid='` + id + `' node='config' action='prev'`, "", "executing execute=next:next"},
		2: {`sessionid='` + id + `' node='config' action='next'`, sub, "executing execute=complete:prev,complete"},
		3: {`sessionid='` + id + `' node='config' action='complete'`, "", "completed"},
	}
	for i, s := range steps {
		res, err := exec(t, m, user, s.attrs, s.body)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := actions(res); got != s.want || res.Get("sessionid") != id {
			t.Fatalf("step %d: %s, want %s", i, res, s.want)
		}
		if i == 3 {
			n := res.Child("note", NS)
			if n == nil || n.Get("type") != "info" || n.Text != "Service 'httpd' has been configured." {
				t.Fatalf("note: %s", res)
			}
		}
	}
	if m.Sessions() != 0 {
		t.Fatalf("%d sessions after completion", m.Sessions())
	}
	// §5: a session id is not used again once the session ended.
	if _, err := exec(t, m, user, `sessionid='`+id+`' node='config'`, sub); app(err) != "bad-sessionid" {
		t.Fatalf("finished session: %v", err)
	}
}

// TestCancel: §3.6, canceling at stage 2 answers status canceled and
// frees the session.
func TestCancel(t *testing.T) {
	m := newModule(t, nil, 0)
	res, _ := exec(t, m, user, `node='config'`, "")
	id := res.Get("sessionid")
	res, err := exec(t, m, user, `sessionid='`+id+`' node='config' action='cancel'`, "")
	if err != nil || res.Get("status") != "canceled" || res.Get("sessionid") != id || len(res.Children) != 0 {
		t.Fatalf("cancel: %s %v", res, err)
	}
	if m.Sessions() != 0 {
		t.Fatal("the canceled session is kept")
	}
}

// TestSingleStage: §3.3, a command that completes at once; a form without
// <actions/> completes on its submission (execute = complete, §5.4).
func TestSingleStage(t *testing.T) {
	m := newModule(t, nil, 0)
	res, err := exec(t, m, user, `node='list'`, "")
	if err != nil || actions(res) != "completed" || res.Get("sessionid") == "" || res.Child("x", dataform.NS) == nil {
		t.Fatalf("single: %s %v", res, err)
	}
	res, _ = exec(t, m, user, `node='one'`, "")
	if actions(res) != "executing" {
		t.Fatalf("one form: %s", res)
	}
	id := res.Get("sessionid")
	if _, err := exec(t, m, user, `sessionid='`+id+`' node='one' action='next'`, ""); app(err) != "bad-action" {
		t.Fatalf("next without actions: %v", err)
	}
	res, err = exec(t, m, user, `sessionid='`+id+`' node='one'`, `<x xmlns='jabber:x:data' type='submit'/>`)
	if err != nil || actions(res) != "completed" {
		t.Fatalf("submit: %s %v", res, err)
	}
}

// TestErrors: the conditions of §4.6 and who may run what.
func TestErrors(t *testing.T) {
	m := newModule(t, nil, 0)
	res, _ := exec(t, m, user, `node='config'`, "")
	id := res.Get("sessionid")
	tests := []struct {
		from, attrs, body string
		cond, app         string
	}{
		0:  {user, `node='config' action='dance'`, "", "bad-request", "malformed-action"},
		1:  {user, `sessionid='` + id + `' node='config' action='complete'`, "", "bad-request", "bad-action"}, // stage 1 allows next only
		2:  {user, `node='config' action='next'`, "", "bad-request", "bad-action"},                            // no session
		3:  {user, `sessionid='nope' node='config'`, "", "bad-request", "bad-sessionid"},
		4:  {"user@example.com/other", `sessionid='` + id + `' node='config'`, "", "bad-request", "bad-sessionid"}, // another resource
		5:  {user, `sessionid='` + id + `' node='list'`, "", "bad-request", "bad-sessionid"},                       // another command
		6:  {user, `sessionid='` + id + `' node='config'`, `<x xmlns='jabber:x:data' type='submit'/>`, "bad-request", "bad-payload"},
		7:  {user, `node='secret'`, "", "forbidden", ""},
		8:  {user, `node='missing'`, "", "item-not-found", ""},
		9:  {"stranger@other.org/x", `node='list'`, "", "forbidden", ""},
		10: {user, `node='config'`, `<x xmlns='jabber:x:data' type='bogus'/>`, "bad-request", ""},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			_, err := exec(t, m, tc.from, tc.attrs, tc.body)
			var se *stanza.Error
			if !errors.As(err, &se) || se.Condition() != tc.cond || app(err) != tc.app {
				t.Fatalf("err = %v (%s), want %s/%s", err, app(err), tc.cond, tc.app)
			}
		})
	}
	// A refused payload leaves the session where it was.
	res, err := exec(t, m, user, `sessionid='`+id+`' node='config'`, `<x xmlns='jabber:x:data' type='submit'><field var='service'><value>httpd</value></field></x>`)
	if err != nil || actions(res) != "executing execute=complete:prev,complete" {
		t.Fatalf("after bad-payload: %s %v", res, err)
	}
	if res, err := exec(t, m, admin, `node='secret'`, ""); err != nil || res.Get("status") != "completed" {
		t.Fatalf("admin: %s %v", res, err)
	}
	get := imtest.Parse(t, `<iq type='get' to='example.com' from='`+user+`' id='g'><command xmlns='`+NS+`' node='list'/></iq>`)
	if _, err := m.Handle(context.Background(), get); !errors.Is(err, stanza.ErrBadRequest) {
		t.Fatalf("get: %v", err)
	}
	acct := imtest.Parse(t, `<iq type='set' to='admin@example.com' from='`+user+`' id='g'><command xmlns='`+NS+`' node='list'/></iq>`)
	if _, err := m.Handle(context.Background(), acct); !errors.Is(err, stanza.ErrServiceUnavailable) {
		t.Fatalf("to an account: %v", err)
	}
}

// TestLimitsAndExpiry: a user holds at most MaxSessions; an expired
// session is session-expired and makes room; sessions go with their
// requester's XMPP session.
func TestLimitsAndExpiry(t *testing.T) {
	clk := clock.NewFake(time.Unix(1_700_000_000, 0))
	m, r := newModuleRouter(t, clk, 2)
	s := imtest.Bind(t, r, user)
	var ids []string
	for range 2 {
		res, err := exec(t, m, user, `node='config'`, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Get("sessionid"))
	}
	if _, err := exec(t, m, "user@example.com/laptop", `node='config'`, ""); !errors.Is(err, stanza.ErrResourceConstraint) {
		t.Fatalf("third session of the user: %v", err)
	}
	if _, err := exec(t, m, admin, `node='config'`, ""); err != nil {
		t.Fatalf("another user is not limited: %v", err)
	}
	clk.Advance(30 * time.Second)
	sub := `<x xmlns='jabber:x:data' type='submit'><field var='service'><value>httpd</value></field></x>`
	if _, err := exec(t, m, user, `sessionid='`+ids[0]+`' node='config'`, sub); err != nil {
		t.Fatalf("a request renews the session: %v", err)
	}
	clk.Advance(45 * time.Second) // ids[1] idle 75 s > 60 s; ids[0] 45 s
	if _, err := exec(t, m, user, `sessionid='`+ids[1]+`' node='config' action='next'`, ""); app(err) != "session-expired" || !errors.Is(err, stanza.ErrNotAllowed) {
		t.Fatalf("expired: %v", err)
	}
	if _, err := exec(t, m, user, `node='config'`, ""); err != nil {
		t.Fatalf("the expired session made room: %v", err)
	}
	if _, err := exec(t, m, user, `sessionid='`+ids[0]+`' node='config' action='prev'`, ""); err != nil {
		t.Fatalf("the live session: %v", err)
	}
	r.Unbind(context.Background(), s) // the requester's XMPP session ends
	if _, err := exec(t, m, user, `sessionid='`+ids[0]+`' node='config' action='prev'`, ""); app(err) != "bad-sessionid" {
		t.Fatalf("after the XMPP session ended: %v", err)
	}
	if m.Sessions() != 1 { // the admin's
		t.Fatalf("sessions = %d", m.Sessions())
	}
}

// TestDisco: §2.2 lists the commands the requester may run, at the
// domain; §2.3 describes a command node.
func TestDisco(t *testing.T) {
	m := newModule(t, nil, 0)
	ask := func(from, ns, node string) (*xmlstream.Element, bool, error) {
		iq := imtest.Parse(t, `<iq type='get' to='example.com' from='`+from+`' id='d'><query xmlns='`+ns+`' node='`+node+`'/></iq>`)
		return m.DiscoNode(context.Background(), iq, node)
	}
	items := func(from string) []string {
		res, found, err := ask(from, "http://jabber.org/protocol/disco#items", NS)
		if err != nil || !found || res.Get("node") != NS {
			t.Fatalf("items: %v %v %v", res, found, err)
		}
		var out []string
		for _, c := range res.Children {
			out = append(out, c.Get("jid")+" "+c.Get("node")+" "+c.Get("name"))
		}
		return out
	}
	want := []string{"example.com config Configure Service", "example.com list List Service", "example.com one One Form"}
	if got := items(user); !slices.Equal(got, want) {
		t.Fatalf("user sees %q", got)
	}
	if got := items(admin); !slices.Equal(got, append(want, "example.com secret Admins only")) {
		t.Fatalf("admin sees %q", got)
	}
	res, found, err := ask(user, "http://jabber.org/protocol/disco#info", "config")
	if err != nil || !found {
		t.Fatal(err)
	}
	id := res.Child("identity", "http://jabber.org/protocol/disco#info")
	if id == nil || id.Get("category") != "automation" || id.Get("type") != "command-node" || len(res.Children) != 3 {
		t.Fatalf("node info: %s", res)
	}
	if _, _, err := ask(user, "http://jabber.org/protocol/disco#info", "secret"); !errors.Is(err, stanza.ErrForbidden) {
		t.Fatalf("hidden node: %v", err)
	}
	if _, found, _ := ask(user, "http://jabber.org/protocol/disco#info", "unknown"); found {
		t.Fatal("unknown node found")
	}
}
