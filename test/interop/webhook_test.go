package interop

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/webhook"
	"parley/internal/xmpptest/testserver"
)

// TestSlixmppWebhook runs slix_webhook.py: a slixmpp user sits in a room
// with a hook that is both incoming and outgoing; a POST to the hook is
// seen in the room, and the user's mention of the hook reaches this
// test's receiver, down (503) at the first attempt, signed, and its reply
// is seen in the room.
func TestSlixmppWebhook(t *testing.T) {
	requireSlixmpp(t)
	const secret, token, room, reply = "an interop hook secret", "an interop hook token", "builds@conference.localhost", "green since 10:02"
	var calls, good atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var ev webhook.Event
		if r.Header.Get(webhook.HeaderSignature) != webhook.Sign(secret, body) || json.Unmarshal(body, &ev) != nil || ev.Trigger != "mention" {
			t.Errorf("bad delivery %s %q", r.Header.Get(webhook.HeaderSignature), body)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		good.Add(1)
		json.NewEncoder(w).Encode(map[string]string{"text": reply})
	}))
	defer recv.Close()
	srv := testserver.Start(t, func(c *config.Config) {
		c.Listen.HTTPS = "127.0.0.1:0"
		c.Webhooks = []config.Webhook{{ID: "ci", Token: token, To: room, Nick: "ci", URL: recv.URL, Secret: secret,
			RetryDelay: config.Duration{Duration: 10 * time.Millisecond}}}
	})
	srv.AddUser(t, "alice", password)
	host, port := hostPort(t, srv.C2S())
	runScript(t, "slix_webhook.py", host, port, "alice@localhost", password, room, "ci",
		"https://"+srv.HTTPS()+"/api/v1/hooks/ci", token, reply)
	if calls.Load() != 2 || good.Load() != 1 {
		t.Errorf("%d deliveries, %d good: want 2 (a 503, then the event) and 1", calls.Load(), good.Load())
	}
}
