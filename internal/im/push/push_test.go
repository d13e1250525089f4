package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"parley/internal/clock"
	"parley/internal/dataform"
	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmpptest"
)

// memStore is an in-memory store.PushRegistrations.
type memStore struct {
	mu   sync.Mutex // guards regs
	regs map[string][]store.PushRegistration
}

func (s *memStore) PushRegistrations(_ context.Context, user string) ([]store.PushRegistration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.regs[user]), nil
}

func (s *memStore) EnablePush(_ context.Context, user string, r store.PushRegistration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regs[user] = slices.DeleteFunc(s.regs[user], func(o store.PushRegistration) bool { return o.Service == r.Service && o.Node == r.Node })
	s.regs[user] = append(s.regs[user], r)
	return nil
}

func (s *memStore) DisablePush(_ context.Context, user, service, node string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.regs[user])
	s.regs[user] = slices.DeleteFunc(s.regs[user], func(o store.PushRegistration) bool {
		return o.Service == service && (node == "" || o.Node == node)
	})
	return n - len(s.regs[user]), nil
}

func (s *memStore) nodes(user string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.regs[user] {
		out = append(out, r.Service+" "+r.Node)
	}
	return out
}

type offline struct{}

func (offline) StoreOffline(context.Context, *stanza.Stanza) error { return nil }

// hibernating is a session whose client may be away (XEP-0198).
type hibernating struct {
	*imtest.Session
	mu   sync.Mutex
	away bool
}

// Nickname implements router.Nicknamed: "ally" in room@conference.example.com.
func (h *hibernating) Nickname(room jid.JID) (string, bool) {
	return "ally", room.String() == "room@conference.example.com"
}

func (h *hibernating) Hibernated() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.away
}

type fixture struct {
	r     *router.Router
	m     *Module
	st    *memStore
	clock *clock.Fake
	app   *imtest.Session // the app server, push@example.com/app
	romeo *imtest.Session
}

const appJID = "push@example.com/app"

func setup(t *testing.T, o Options) *fixture {
	t.Helper()
	f := &fixture{st: &memStore{regs: map[string][]store.PushRegistration{}},
		clock: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	f.r = router.New(jid.MustParse("example.com"), imtest.Accounts{"alice": true, "romeo": true, "push": true}, nil)
	f.r.SetOffline(offline{})
	o.Store, o.Clock = f.st, f.clock
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	f.m = New(o)
	f.m.Register(f.r)
	t.Cleanup(f.m.Close)
	f.app = imtest.Available(t, f.r, appJID, 0, nil)
	f.romeo = imtest.Available(t, f.r, "romeo@example.com/orchard", 0, nil)
	return f
}

// iq routes an IQ from alice/phone and returns the answer she got.
func (f *fixture) iq(t *testing.T, alice *imtest.Session, payload string) *stanza.Stanza {
	t.Helper()
	f.r.Route(context.Background(), imtest.Parse(t, "<iq type='set' id='e1' from='alice@example.com/phone'>"+payload+"</iq>"))
	got := alice.Take()
	if len(got) != 1 {
		t.Fatalf("alice got %v, want one answer", got)
	}
	return got[0]
}

// setupAway is setup where alice's phone enabled pushes and went away:
// the messages to alice that follow are pushed.
func setupAway(t *testing.T, o Options) *fixture {
	t.Helper()
	f := setup(t, o)
	alice := imtest.Bind(t, f.r, "alice@example.com/phone")
	f.enable(t, alice)
	f.r.Unbind(context.Background(), alice)
	return f
}

// enable registers alice's phone with the app server, node n1 and a secret.
func (f *fixture) enable(t *testing.T, alice *imtest.Session) {
	t.Helper()
	a := f.iq(t, alice, "<enable xmlns='urn:xmpp:push:0' jid='"+appJID+"' node='n1'>"+
		"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>"+FormPublishOptions+"</value></field>"+
		"<field var='secret'><value>s3cr3t</value></field></x></enable>")
	if a.Type != "result" {
		t.Fatalf("enable: %s", a.El)
	}
}

// message sends a chat message from romeo to alice.
func (f *fixture) message(t *testing.T, body string) {
	t.Helper()
	f.r.Route(context.Background(), imtest.Parse(t, "<message from='romeo@example.com/orchard' to='alice@example.com' type='chat'><body>"+body+"</body></message>"))
}

// publishes waits until the app server got n publishes and returns them.
func (f *fixture) publishes(t *testing.T, n int) []*stanza.Stanza {
	t.Helper()
	var got []*stanza.Stanza
	xmpptest.Eventually(t, 5*time.Second, func() error {
		got = append(got, f.app.Take()...)
		if len(got) < n {
			return fmt.Errorf("%d publishes, want %d", len(got), n)
		}
		return nil
	})
	if len(got) > n {
		t.Fatalf("%d publishes, want %d: %v", len(got), n, got)
	}
	return got
}

// answer has the app server answer a publish: "" for a result, else an
// error condition.
func (f *fixture) answer(t *testing.T, iq *stanza.Stanza, cond string) {
	t.Helper()
	raw := "<iq type='result' id='" + iq.ID + "' from='" + appJID + "' to='" + iq.From.String() + "'/>"
	if cond != "" {
		raw = "<iq type='error' id='" + iq.ID + "' from='" + appJID + "' to='" + iq.From.String() + "'><error type='cancel'><" + cond +
			" xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
	}
	f.r.Route(context.Background(), imtest.Parse(t, raw))
}

// summary reads a publish: its node, summary fields and publish-options
// secret.
func summary(t *testing.T, iq *stanza.Stanza) (node string, fields map[string]string, secret string) {
	t.Helper()
	ps := iq.El.Child("pubsub", NSPubSub)
	if iq.Type != "set" || ps == nil {
		t.Fatalf("not a publish: %s", iq.El)
	}
	pub := ps.Child("publish", NSPubSub)
	x := pub.Child("item", NSPubSub).Child("notification", NS).Child("x", dataform.NS)
	form, err := dataform.Parse(x, dataform.Limits{})
	if err != nil || form.FormType() != NSSummary {
		t.Fatalf("summary form %s: %v", x, err)
	}
	fields = map[string]string{}
	for _, fd := range form.Fields {
		if fd.Var != "FORM_TYPE" {
			fields[fd.Var], _ = form.Value(fd.Var)
		}
	}
	if po := ps.Child("publish-options", NSPubSub); po != nil {
		opts, err := dataform.Parse(po.Child("x", dataform.NS), dataform.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		secret, _ = opts.Value("secret")
	}
	return pub.Get("node"), fields, secret
}

// TestEnableDisable follows XEP-0357 §5 and §6.
func TestEnableDisable(t *testing.T) {
	f := setup(t, Options{MaxDevices: 3})
	alice := imtest.Bind(t, f.r, "alice@example.com/phone")
	f.enable(t, alice)
	if got := f.st.nodes("alice"); !slices.Equal(got, []string{appJID + " n1"}) {
		t.Fatalf("registrations %v", got)
	}
	if regs, _ := f.st.PushRegistrations(context.Background(), "alice"); len(regs) != 1 || regs[0].Options == nil {
		t.Fatalf("the publish-options form is not kept: %+v", regs)
	}
	for _, n := range []string{"n2", "n3"} {
		if a := f.iq(t, alice, "<enable xmlns='urn:xmpp:push:0' jid='push.example.net' node='"+n+"'/>"); a.Type != "result" {
			t.Fatalf("enable %s: %s", n, a.El)
		}
	}
	errs := []struct{ payload, cond string }{
		0: {"<enable xmlns='urn:xmpp:push:0' jid='push.example.net' node='n4'/>", "resource-constraint"}, // a fourth device
		1: {"<enable xmlns='urn:xmpp:push:0' node='n1'/>", "bad-request"},                                // no jid
		2: {"<enable xmlns='urn:xmpp:push:0' jid='push.example.net'/>", "bad-request"},                   // no node
		3: {"<enable xmlns='urn:xmpp:push:0' jid='push.example.net' node='n2'><x xmlns='jabber:x:data' type='submit'>" +
			"<field var='FORM_TYPE'><value>urn:example</value></field></x></enable>", "bad-request"}, // not publish-options
		4: {"<enable xmlns='urn:xmpp:push:0' jid='@bad' node='n1'/>", "bad-request"},
	}
	for i, tc := range errs {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			a := f.iq(t, alice, tc.payload)
			if a.Type != "error" || stanzaErrorCondition(a) != tc.cond {
				t.Fatalf("answer %s, want %s", a.El, tc.cond)
			}
		})
	}
	// Re-enabling a known device replaces it, even at the cap.
	if a := f.iq(t, alice, "<enable xmlns='urn:xmpp:push:0' jid='push.example.net' node='n2'/>"); a.Type != "result" {
		t.Fatalf("re-enable: %s", a.El)
	}
	// Another account's registrations are not alice's to change.
	f.r.Route(context.Background(), imtest.Parse(t, "<iq type='set' id='x' from='alice@example.com/phone' to='romeo@example.com'>"+
		"<disable xmlns='urn:xmpp:push:0' jid='push.example.net'/></iq>"))
	if a := alice.Take(); len(a) != 1 || stanzaErrorCondition(a[0]) != "service-unavailable" {
		t.Fatalf("disable for romeo: %v", a)
	}
	// §6: disable one node, then every node of an app server.
	if a := f.iq(t, alice, "<disable xmlns='urn:xmpp:push:0' jid='push.example.net' node='n2'/>"); a.Type != "result" {
		t.Fatalf("disable: %s", a.El)
	}
	if got := f.st.nodes("alice"); !slices.Equal(got, []string{appJID + " n1", "push.example.net n3"}) {
		t.Fatalf("after disabling n2: %v", got)
	}
	if a := f.iq(t, alice, "<disable xmlns='urn:xmpp:push:0' jid='push.example.net'/>"); a.Type != "result" {
		t.Fatalf("disable all: %s", a.El)
	}
	if got := f.st.nodes("alice"); !slices.Equal(got, []string{appJID + " n1"}) {
		t.Fatalf("after disabling push.example.net: %v", got)
	}
}

// TestNotification: a message for alice while she has no session is
// published to her app server from her bare JID with the summary form and
// her publish-options; the body only when the site allows it.
func TestNotification(t *testing.T) {
	for _, includeBody := range []bool{false, true} {
		t.Run(fmt.Sprint(includeBody), func(t *testing.T) {
			f := setupAway(t, Options{IncludeBody: includeBody})
			f.message(t, "wherefore art thou")
			iq := f.publishes(t, 1)[0]
			if iq.From.String() != "alice@example.com" || iq.To.String() != appJID {
				t.Fatalf("publish from %s to %s", iq.From, iq.To)
			}
			node, fields, secret := summary(t, iq)
			want := map[string]string{"message-count": "1", "last-message-sender": "romeo@example.com"}
			if includeBody {
				want["last-message-body"] = "wherefore art thou"
			}
			if node != "n1" || secret != "s3cr3t" || fmt.Sprint(fields) != fmt.Sprint(want) {
				t.Fatalf("node %q secret %q fields %v, want n1, s3cr3t, %v", node, secret, fields, want)
			}
			f.answer(t, iq, "")
			if got := f.st.nodes("alice"); len(got) != 1 {
				t.Fatalf("a result must keep the registration: %v", got)
			}
		})
	}
}

// TestOnlyWhileAway: nothing is pushed while a client of the account is
// connected; a hibernated session (XEP-0198 waiting for a resumption)
// counts as away; chat states are not pushed.
func TestOnlyWhileAway(t *testing.T) {
	f := setup(t, Options{})
	phone := &hibernating{Session: imtest.NewSession(t, "alice@example.com/phone")}
	f.r.Bind(phone)
	f.r.SetAvailability(phone.JID(), true, 0, nil)
	f.enable(t, phone.Session)
	f.message(t, "online")
	f.r.Route(context.Background(), imtest.Parse(t, "<iq type='get' id='p' from='alice@example.com/phone' to='example.com'><ping xmlns='urn:xmpp:ping'/></iq>"))
	if got := f.app.Take(); len(got) != 0 {
		t.Fatalf("pushed while online: %v", got)
	}
	phone.mu.Lock()
	phone.away = true
	phone.mu.Unlock()
	f.r.Route(context.Background(), imtest.Parse(t, "<message from='romeo@example.com/orchard' to='alice@example.com' type='chat'>"+
		"<composing xmlns='http://jabber.org/protocol/chatstates'/></message>"))
	f.message(t, "hibernated")
	iq := f.publishes(t, 1)[0]
	if _, fields, _ := summary(t, iq); fields["message-count"] != "1" {
		t.Fatalf("fields %v", fields)
	}
	// Room chatter is not pushed; a mention of the session's nickname in
	// that room is (not of the account's name: the session knows better).
	f.answer(t, iq, "")
	f.clock.Advance(time.Minute)
	for _, body := range []string{"alice, lunch?", "lunch, ally?"} {
		f.r.Route(context.Background(), imtest.Parse(t, "<message from='room@conference.example.com/romeo' to='alice@example.com/phone' type='groupchat'><body>"+body+"</body></message>"))
	}
	if _, fields, _ := summary(t, f.publishes(t, 1)[0]); fields["message-count"] != "2" || fields["last-message-sender"] != "room@conference.example.com" {
		t.Fatalf("mention: fields %v", fields)
	}
	n := 0
	for _, st := range phone.Take() {
		if st.Kind == stanza.Message {
			n++
		}
	}
	if n != 5 {
		t.Fatalf("the session was sent %d messages, want all 5", n)
	}
}

// TestRateLimit: one notification per device per MinInterval; the next
// one carries the messages counted meanwhile.
func TestRateLimit(t *testing.T) {
	f := setupAway(t, Options{MinInterval: time.Minute})
	for i := range 3 {
		f.message(t, "m"+strconv.Itoa(i))
	}
	iq := f.publishes(t, 1)[0]
	f.answer(t, iq, "")
	f.clock.Advance(59 * time.Second)
	f.message(t, "m3")
	if got := f.app.Take(); len(got) != 0 {
		t.Fatalf("pushed within the interval: %v", got)
	}
	f.clock.Advance(time.Second)
	f.message(t, "m4")
	iq = f.publishes(t, 1)[0]
	if _, fields, _ := summary(t, iq); fields["message-count"] != "5" {
		t.Fatalf("fields %v, want message-count 5", fields)
	}
}

// TestErrorDisables: an app server that answers with an error loses the
// registration (XEP-0357 §8); nothing more is published to it.
func TestErrorDisables(t *testing.T) {
	f := setupAway(t, Options{MinInterval: time.Nanosecond})
	f.message(t, "one")
	f.answer(t, f.publishes(t, 1)[0], "item-not-found")
	xmpptest.Eventually(t, 5*time.Second, func() error {
		if got := f.st.nodes("alice"); len(got) != 0 {
			return errors.New("still registered: " + fmt.Sprint(got))
		}
		return nil
	})
	f.clock.Advance(time.Second)
	f.message(t, "two")
	f.m.Close() // nothing in flight
	if got := f.app.Take(); len(got) != 0 {
		t.Fatalf("published after the error: %v", got)
	}
}

// TestHibernationPushes: a session that begins to hibernate with
// messages its client never acknowledged makes one notification for them
// (XEP-0357 §7: their count, the last sender), not only the next message
// to arrive; chat states among them are not counted.
func TestHibernationPushes(t *testing.T) {
	f := setup(t, Options{IncludeBody: true})
	phone := &hibernating{Session: imtest.NewSession(t, "alice@example.com/phone")}
	f.r.Bind(phone)
	f.enable(t, phone.Session)
	phone.mu.Lock()
	phone.away = true
	phone.mu.Unlock()
	f.r.Hibernate(context.Background(), phone.JID(), [][]byte{
		[]byte("<message from='romeo@example.com/orchard' to='alice@example.com/phone' type='chat'><body>first</body></message>"),
		[]byte("<message from='nurse@example.com/hall' to='alice@example.com/phone' type='chat'><body>second</body></message>"),
		[]byte("<message from='romeo@example.com/orchard' to='alice@example.com/phone' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>"),
	})
	_, fields, _ := summary(t, f.publishes(t, 1)[0])
	want := map[string]string{"message-count": "2", "last-message-sender": "nurse@example.com", "last-message-body": "second"}
	if fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Fatalf("fields %v, want %v", fields, want)
	}
}
