package adminapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/jid"
	"parley/internal/store"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// env is a running server with its HTTPS listener and a token per role.
type env struct {
	srv    *testserver.Server
	base   string // https://127.0.0.1:PORT
	hc     *http.Client
	tokens map[string]string // role -> token
	// bodies collects every response body, for TestNoSecretsInResponses's
	// kind of check (secretsIn).
	bodies []string
}

func start(t *testing.T) *env { return startWith(t, nil) }

// startWith is start with more configuration.
func startWith(t *testing.T, configure func(*config.Config)) *env {
	t.Helper()
	srv := testserver.Start(t, func(c *config.Config) {
		c.Listen.HTTPS = "127.0.0.1:0"
		if configure != nil {
			configure(c)
		}
	})
	e := &env{srv: srv, base: "https://" + srv.HTTPS(), tokens: map[string]string{}, hc: srv.HTTPSClient(t)}
	for _, role := range control.Roles {
		e.tokens[role] = e.issue(t, role, "")
	}
	return e
}

// ops are the control operations on the test server's store.
func (e *env) ops() *control.Ops {
	d, _ := jid.Parse("localhost")
	return &control.Ops{Domain: d, Users: e.srv.Store(), RoomStore: e.srv.Store(), Tokens: e.srv.Store()}
}

func (e *env) issue(t *testing.T, role, username string) string {
	t.Helper()
	tok, _, err := e.ops().CreateToken(context.Background(), role, "test "+role, username, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends a request with token ("" for none) and returns the status, the
// response and its body.
func (e *env) do(t *testing.T, token, method, path, body string) (*http.Response, string) {
	t.Helper()
	return e.doURL(t, e.hc, e.base+path, token, method, body)
}

func (e *env) doURL(t *testing.T, hc *http.Client, url, token, method, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, b := send(t, hc, req)
	e.bodies = append(e.bodies, b)
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s %s: %d with Content-Type %q, want application/problem+json (RFC 9457)", method, url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp, b
}

// send sends req with hc and returns the response and its body.
func send(t *testing.T, hc *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// waitAudit waits until the audit log's records of action ("" for all),
// in order, pass check (the log is written beside the answers).
func (e *env) waitAudit(t *testing.T, action string, check func([]audit.Record) error) {
	t.Helper()
	xmpptest.Eventually(t, wait, func() error {
		recs, err := audit.Query(context.Background(), e.srv.Store(), store.AuditQuery{Action: action})
		if err != nil {
			return err
		}
		return check(recs)
	})
}

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return v
}

// upload shares content as name through the server's upload service
// (XEP-0363: a slot over XMPP, a PUT over HTTPS) and returns its GET URL.
func (e *env) upload(t *testing.T, c *xmpptest.Client, name, content string) string {
	t.Helper()
	iq, err := c.IQ(10*time.Second, "get", "upload.localhost", fmt.Sprintf(
		`<request xmlns='urn:xmpp:http:upload:0' filename='%s' size='%d' content-type='text/plain'/>`, name, len(content)))
	if err != nil {
		t.Fatalf("slot: %v", err)
	}
	slot := iq.Child("slot", "urn:xmpp:http:upload:0")
	if slot == nil {
		t.Fatalf("no slot in %s", iq)
	}
	req, _ := http.NewRequest("PUT", slot.Child("put", "urn:xmpp:http:upload:0").Get("url"), strings.NewReader(content))
	req.Header.Set("Content-Type", "text/plain")
	if resp, _ := send(t, e.hc, req); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %s", resp.Status)
	}
	return slot.Child("get", "urn:xmpp:http:upload:0").Get("url")
}

// getURL GETs url without a token (upload URLs are their own secret).
func (e *env) getURL(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, e.hc, req)
}
