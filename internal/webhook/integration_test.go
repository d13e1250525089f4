package webhook_test

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const (
	wait  = 10 * time.Second
	room  = "ops@conference.localhost"
	token = "a long hook token"
)

// aliceInRoom logs alice in and has her join room, where she sees her own
// presence (status 110, XEP-0045 §7.2.2).
func aliceInRoom(t *testing.T, srv *testserver.Server) *xmpptest.Client {
	t.Helper()
	alice := srv.OnlineUsers(t, "pw-alice", "desk", "alice")[0]
	alice.SendPresence()
	xmpptest.MustJoinRoom(t, alice, wait, room, "alice")
	return alice
}

// TestWebhookOverHTTPS: a CI system posts Markdown to the room hook and
// the user hook; alice, sitting in the room, sees the hook's message from
// room/CI with XEP-0393 styling, and gets the direct one from the hook's
// JID; a wrong token, an unknown hook and an empty text are refused with
// problem details.
func TestWebhookOverHTTPS(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) {
		c.Listen.HTTPS = "127.0.0.1:0"
		c.Webhooks = []config.Webhook{
			{ID: "deploys", Token: token, To: room, Nick: "CI"},
			{ID: "pager", Token: token, From: "bot@localhost", To: "alice@localhost"},
		}
	})
	alice := aliceInRoom(t, srv)
	if res, err := alice.IQ(wait, "set", room, "<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query>"); err != nil || res.Get("type") != "result" {
		t.Fatalf("instant room: %v %v", res, err)
	}

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // self-signed
	post := func(id, tok, body string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", "https://"+srv.HTTPS()+"/api/v1/hooks/"+id, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 && res.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d without problem details", id, res.StatusCode)
		}
		return res.StatusCode
	}
	if got := post("deploys", token, `{"text": "**deploy** of [v1.2](https://ci.example.com/7) done"}`); got != 200 {
		t.Fatalf("room hook: %d", got)
	}
	el, err := alice.Expect(wait, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("type") == "groupchat" && el.Child("body", "") != nil
	})
	if err != nil || el.Get("from") != room+"/CI" || el.ChildText("body", "") != "*deploy* of v1.2 <https://ci.example.com/7> done" {
		t.Fatalf("room got %v %v", el, err)
	}
	if got := post("pager", token, `{"text": "disk full on db1"}`); got != 200 {
		t.Fatalf("user hook: %d", got)
	}
	el, err = alice.Expect(wait, func(el *xmlstream.Element) bool { return el.Name == "message" && el.Get("type") == "chat" })
	if err != nil || !strings.HasPrefix(el.Get("from"), "bot@localhost/") || el.ChildText("body", "") != "disk full on db1" {
		t.Fatalf("alice got %v %v", el, err)
	}
	for _, tc := range []struct {
		id, tok, body string
		want          int
	}{
		{"deploys", "wrong token value", `{"text": "x"}`, 401},
		{"nosuch", token, `{"text": "x"}`, 401},
		{"deploys", token, `{"text": "  "}`, 400},
		{"deploys", token, `not json`, 400},
		{"deploys", token, `{"text": "` + strings.Repeat("a", 9000) + `"}`, 413},
	} {
		if got := post(tc.id, tc.tok, tc.body); got != tc.want {
			t.Errorf("%s %q: %d, want %d", tc.id, tc.body[:min(len(tc.body), 20)], got, tc.want)
		}
	}
}
