package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/server"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// RFC 7395 with subprotocol "xmpp", plaintext allowed on loopback, talking
// to a TCP client.
func TestWebSocket(t *testing.T) {
	srv := newServer(t, func(c *config.Config) { c.AllowPlaintext = true })
	bob := online(t, srv, "bob", "tcp")
	ws, err := xmpptest.DialWebSocket(context.Background(), "ws://"+srv.HTTP()+"/xmpp-websocket",
		xmpptest.Options{User: "alice", Password: password, Resource: "browser"})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if ws.JID != "alice@localhost/browser" {
		t.Fatalf("bound %q", ws.JID)
	}
	ping(t, ws)
	send(t, ws, "<message to='bob@localhost/tcp' type='chat'><body>from the web</body></message>")
	el := expect(t, bob, "the WebSocket client's message", xmpptest.MessageBody("from the web"))
	if el.Get("from") != ws.JID {
		t.Errorf("from = %q", el.Get("from"))
	}
	send(t, bob, "<message to='alice@localhost/browser' type='chat'><body>from tcp</body></message>")
	expect(t, ws, "the TCP client's message", xmpptest.MessageBody("from tcp"))
}

// Without allow_plaintext a plain ws:// stream must not authenticate.
func TestWebSocketPlaintextRefused(t *testing.T) {
	srv := newServer(t, nil)
	_, err := xmpptest.DialWebSocket(context.Background(), "ws://"+srv.HTTP()+"/xmpp-websocket",
		xmpptest.Options{User: "alice", Password: password})
	if got := authCondition(err); got != "encryption-required" {
		t.Fatalf("err = %v, want <failure><encryption-required/>", err)
	}
}

// get fetches url and returns its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	return getAuth(t, url, "")
}

// /healthz is public; /metrics is served on its own listener (loopback
// by default), and on the public HTTP listener only with the bearer token
// of metrics.token (issue 9 item 15).
func TestHealthzAndMetrics(t *testing.T) {
	srv := newServer(t, nil)
	ping(t, login(t, srv, "alice", "m")) // something to count
	code, body := get(t, "http://"+srv.HTTP()+"/healthz")
	if code != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	code, body = get(t, "http://"+srv.Addr("metrics").String()+"/metrics")
	if code != 200 || !strings.Contains(body, "\nparley_") && !strings.HasPrefix(body, "parley_") {
		t.Fatalf("/metrics = %d, no parley_ metric in:\n%.2000s", code, body)
	}
	if !strings.Contains(body, "# TYPE parley_") {
		t.Errorf("/metrics has no TYPE line for a parley_ metric")
	}
	if code, _ := get(t, "http://"+srv.HTTP()+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the public HTTP listener without a token configured: %d, want 404", code)
	}
}

func TestMetricsBearerToken(t *testing.T) {
	const token = "s3cret-metrics-token"
	srv := newServer(t, func(c *config.Config) { c.Metrics.Token = token })
	url := "http://" + srv.HTTP() + "/metrics"
	for i, auth := range []string{"", "Bearer wrong", "Basic " + token, "Bearer " + token + "x"} {
		if code, _ := getAuth(t, url, auth); code != http.StatusUnauthorized {
			t.Errorf("%d: Authorization %q: %d, want 401", i, auth, code)
		}
	}
	code, body := getAuth(t, url, "Bearer "+token)
	if code != 200 || !strings.Contains(body, "# TYPE parley_") {
		t.Fatalf("with the token: %d %.200q", code, body)
	}
}

// getAuth is get with an Authorization header (none if auth is empty).
func getAuth(t *testing.T, url, auth string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// Stop sends <system-shutdown/> to connected clients (RFC 6120 §4.9.3.22)
// and closes their streams.
func TestGracefulShutdown(t *testing.T) {
	cfg := config.Default()
	cfg.Data = t.TempDir()
	cfg.Listen = config.Listen{C2S: "127.0.0.1:0", C2STLS: "127.0.0.1:0", HTTP: "127.0.0.1:0"}
	cfg.AllowPlaintext = true // for the WebSocket client
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := testserver.NewUser("alice", password)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Store().CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	c, err := xmpptest.Dial(ctx, srv.Addr("c2s").String(), xmpptest.Options{User: "alice", Password: password, Resource: "r"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Kill()
	ws, err := xmpptest.DialWebSocket(ctx, "ws://"+srv.Addr("http").String()+"/xmpp-websocket",
		xmpptest.Options{User: "alice", Password: password, Resource: "w"})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Kill()
	stopped := make(chan error, 1)
	go func() {
		sctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		stopped <- srv.Stop(sctx)
	}()
	for _, cl := range []*xmpptest.Client{c, ws} {
		el, err := cl.Expect(wait, xmpptest.IsStreamError)
		if err != nil {
			t.Fatalf("%s: no stream error on shutdown: %v", cl.JID, err)
		}
		if got := xmpptest.StreamErrorCondition(el); got != "system-shutdown" {
			t.Fatalf("%s: stream error %s, want <system-shutdown/>", cl.JID, el)
		}
		if _, err := cl.Recv(wait); err == nil {
			t.Errorf("%s: stream still open after system-shutdown", cl.JID)
		}
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Stop: %v", err)
		}
	case <-time.After(wait + time.Second):
		t.Fatal("Stop did not return")
	}
	if _, err := xmpptest.DialRaw(ctx, srv.Addr("c2s").String(), nil); err == nil {
		t.Error("the listener still accepts after Stop")
	}
}
