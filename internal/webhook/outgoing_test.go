package webhook_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/jid"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/webhook"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const secret = "a long hook secret"

// receiver is a test HTTP endpoint: it checks each delivery's signature
// and timestamp, answers the first `fail` of them 503, then 200 with
// reply, and passes the events on.
func receiver(t *testing.T, fail int32, reply string) (*httptest.Server, <-chan webhook.Event, *atomic.Int32) {
	t.Helper()
	events := make(chan webhook.Event, 16)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if got := r.Header.Get(webhook.HeaderSignature); got != webhook.Sign(secret, body) || !strings.HasPrefix(got, "sha256=") {
			t.Errorf("signature %q does not match the body", got)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev webhook.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("body %q: %v", body, err)
		}
		if ts, _ := strconv.ParseInt(r.Header.Get(webhook.HeaderTimestamp), 10, 64); ts != ev.Timestamp || time.Since(time.Unix(ts, 0)) > time.Minute {
			t.Errorf("timestamp header %q, body %d", r.Header.Get(webhook.HeaderTimestamp), ev.Timestamp)
		}
		if r.Header.Get(webhook.HeaderEvent) != ev.ID {
			t.Errorf("event header %q, body %q", r.Header.Get(webhook.HeaderEvent), ev.ID)
		}
		if calls.Add(1) <= fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		events <- ev
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"text": reply})
	}))
	t.Cleanup(srv.Close)
	return srv, events, &calls
}

// TestOutgoingWebhook: the hook sits in the room from the start (it
// creates it); alice's message that mentions its nick reaches the
// receiver signed, one without a mention or keyword does not, one with a
// keyword does; the receiver is down for two attempts (503) and gets the
// event at the third; its reply appears in the room from the hook's nick.
func TestOutgoingWebhook(t *testing.T) {
	recv, events, calls := receiver(t, 2, "**on it**")
	srv := testserver.Start(t, func(c *config.Config) {
		c.Webhooks = []config.Webhook{{ID: "triage", To: room, Nick: "triage-bot", URL: recv.URL, Secret: secret,
			Keywords: []string{"outage"}, RetryDelay: config.Duration{Duration: 5 * time.Millisecond}}}
	})
	alice := aliceInRoom(t, srv)
	say := func(text string) {
		alice.Send("<message type='groupchat' to='" + room + "' id='m-" + strconv.Itoa(len(text)) + "'><body>" + text + "</body></message>")
	}
	say("just chatting")
	say("triage-bot: the build is red")
	var ev webhook.Event
	select {
	case ev = <-events:
	case <-time.After(wait):
		t.Fatal("no event delivered")
	}
	if ev.Hook != "triage" || ev.Room != room || ev.Nick != "alice" || ev.Text != "triage-bot: the build is red" || ev.Trigger != "mention" || ev.ID == "" {
		t.Fatalf("event %+v", ev)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d calls to deliver the first event, want 3 (two 503s, then 200)", n)
	}
	el, err := alice.Expect(wait, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == room+"/triage-bot"
	})
	if err != nil || el.ChildText("body", "") != "*on it*" {
		t.Fatalf("reply in the room: %v %v", el, err)
	}
	say("an OUTAGE in eu-west")
	select {
	case ev = <-events:
	case <-time.After(wait):
		t.Fatal("no keyword event delivered")
	}
	if ev.Trigger != "keyword" || ev.Keyword != "outage" || ev.Text != "an OUTAGE in eu-west" {
		t.Fatalf("keyword event %+v", ev)
	}
	// "just chatting" triggered nothing, and the replies did not trigger
	// the hook itself: every event seen so far is one of the two.
	select {
	case ev = <-events:
		t.Fatalf("unexpected event %+v", ev)
	default:
	}
}

// TestDeadLettersAPI: a receiver that stays down (503) gets the event
// `attempts` times; then GET /api/v1/webhooks/dead-letters (admin token)
// lists it with its attempts and last error, and a helpdesk token is
// refused. The list is kept in the store: the server started again on
// its data lists it still.
func TestDeadLettersAPI(t *testing.T) {
	var calls atomic.Int32
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer down.Close()
	data := t.TempDir()
	configure := func(c *config.Config) {
		c.Data = data
		c.Listen.HTTPS = "127.0.0.1:0"
		c.Webhooks = []config.Webhook{{ID: "pager", To: room, Nick: "pager", URL: down.URL, Secret: secret,
			Attempts: 3, RetryDelay: config.Duration{Duration: time.Millisecond}}}
	}
	srv := testserver.Start(t, configure)
	alice := aliceInRoom(t, srv)
	alice.Send("<message type='groupchat' to='" + room + "' id='p1'><body>pager, db1 is down</body></message>")

	domain, _ := jid.Parse("localhost")
	ops := &control.Ops{Domain: domain, Users: srv.Store(), Tokens: srv.Store()}
	admin, _, err := ops.CreateToken(t.Context(), control.RoleAdmin, "test", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	helpdesk, _, err := ops.CreateToken(t.Context(), control.RoleHelpdesk, "test", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // self-signed
	get := func(token string) (int, []byte) {
		req, _ := http.NewRequest("GET", "https://"+srv.HTTPS()+"/api/v1/webhooks/dead-letters", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	var list struct {
		Items   []webhook.DeadLetter `json:"items"`
		Dropped int64                `json:"dropped"`
	}
	xmpptest.Eventually(t, wait, func() error {
		code, b := get(admin)
		if code != 200 {
			return fmt.Errorf("%d %s", code, b)
		}
		if err := json.Unmarshal(b, &list); err != nil || len(list.Items) == 0 {
			return fmt.Errorf("no dead letter yet: %s %v", b, err)
		}
		return nil
	})
	d := list.Items[0]
	if len(list.Items) != 1 || d.Event.Hook != "pager" || d.Event.Text != "pager, db1 is down" || d.Attempts != 3 ||
		d.Error != "HTTP 503" || d.URL != down.URL || calls.Load() != 3 || list.Dropped != 0 {
		t.Fatalf("dead letters %+v (%d calls)", list, calls.Load())
	}
	if code, _ := get(helpdesk); code != http.StatusForbidden {
		t.Errorf("helpdesk: %d, want 403", code)
	}

	if err := srv.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv = testserver.Start(t, configure)
	code, b := get(admin)
	if err := json.Unmarshal(b, &list); code != 200 || err != nil || len(list.Items) != 1 || list.Items[0].Event.ID != d.Event.ID {
		t.Fatalf("after a restart: %d %s", code, b)
	}
}

// TestOutgoingHookRejoins: a moderator kicks the outgoing hook from a room
// alice owns (stored before the server starts, so that the hook joins it
// as a mere participant); the hook joins again by itself after its retry
// delay, and a mention still reaches the receiver.
func TestOutgoingHookRejoins(t *testing.T) {
	recv, events, _ := receiver(t, 0, "")
	srv := testserver.Start(t, func(c *config.Config) {
		st, err := sqlite.Open(context.Background(), c.SQLitePath())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if err := st.PutRoom(context.Background(), store.Room{JID: room, Config: []byte("{}"), Secret: []byte("s")}); err != nil {
			t.Fatal(err)
		}
		if err := st.SetRoomAffiliation(context.Background(), room, store.RoomAffiliation{JID: "alice@localhost", Affiliation: "owner"}); err != nil {
			t.Fatal(err)
		}
		c.Webhooks = []config.Webhook{{ID: "triage", To: room, Nick: "triage-bot", URL: recv.URL, Secret: secret,
			RetryDelay: config.Duration{Duration: 5 * time.Millisecond}}}
	})
	alice := aliceInRoom(t, srv)
	botPresence := func(typ string) func(el *xmlstream.Element) bool {
		return func(el *xmlstream.Element) bool {
			return el.Name == "presence" && el.Get("from") == room+"/triage-bot" && el.Get("type") == typ
		}
	}
	if _, err := alice.Expect(wait, botPresence("")); err != nil { // the hook joined at start, before alice
		t.Fatal(err)
	}
	res, err := alice.IQ(wait, "set", room, "<query xmlns='http://jabber.org/protocol/muc#admin'><item nick='triage-bot' role='none'><reason>testing</reason></item></query>")
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("kick: %v %v", res, err)
	}
	if el, err := alice.Expect(wait, botPresence("unavailable")); err != nil || !strings.Contains(el.String(), "code='307'") {
		t.Fatalf("the kick as alice sees it: %v %v", el, err)
	}
	if el, err := alice.Expect(wait, botPresence("")); err != nil {
		t.Fatalf("the hook back in the room: %v %v", el, err)
	}
	alice.Send("<message type='groupchat' to='" + room + "' id='m1'><body>triage-bot: are you back?</body></message>")
	select {
	case ev := <-events:
		if ev.Trigger != "mention" || ev.Text != "triage-bot: are you back?" {
			t.Fatalf("event %+v", ev)
		}
	case <-time.After(wait):
		t.Fatal("no event after the hook rejoined")
	}
}
