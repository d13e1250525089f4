package adminapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"parley/internal/control"
	"parley/internal/store"
	"parley/internal/xmpptest"
)

// TestRevokeLostPhone: a phone logs in with SASL2 and gets a FAST token
// (XEP-0484); the help desk lists the account's devices, sees it with its
// session, and revokes it: the phone's session ends with <not-authorized/>,
// its token is refused, the revocation is audited, and the account's
// other device keeps its session.
func TestRevokeLostPhone(t *testing.T) {
	e := start(t)
	e.srv.AddUser(t, "alice", "pw-alice")
	const phone, laptop = "d4565fa7-4d72-4749-b3d3-740edbf87770", "0b6a3b8e-6d7f-4a53-9d0a-3b1f1c9e2a77"
	login := func(ua, token string) (*xmpptest.Client, error) {
		o := xmpptest.Options{User: "alice", Password: "pw-alice", SASL2: &xmpptest.SASL2{UserAgent: ua, Software: "AwesomeXMPP",
			Device: "Kiva's Phone", Bind: true, Tag: "AwesomeXMPP", Token: token,
			Extra: "<request-token xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-NONE'/>"}}
		if token != "" {
			o.Mechanism = xmpptest.HTSHA256None
			o.SASL2.Extra = ""
		}
		return xmpptest.Dial(context.Background(), e.srv.C2S(), o)
	}
	p, err := login(phone, "")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	token := p.Success().Child("token", "urn:xmpp:fast:0").Get("token")
	l, err := login(laptop, "")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Kill()

	resp, body := e.do(t, e.tokens[control.RoleHelpdesk], "GET", "/api/v1/users/alice/devices", "")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	type dev struct {
		ID, Name, Software, Mechanism string
		Sessions                      []string
	}
	list := decode[struct{ Items []dev }](t, body).Items
	if len(list) != 2 || list[0].ID != phone || list[0].Name != "Kiva's Phone" || list[0].Mechanism != "HT-SHA-256-NONE" ||
		len(list[0].Sessions) != 1 || list[0].Sessions[0] != p.JID {
		t.Fatalf("devices %+v", list)
	}
	if strings.Contains(body, token) {
		t.Fatal("the token is shown")
	}

	resp, body = e.do(t, e.tokens[control.RoleHelpdesk], "DELETE", "/api/v1/users/alice/devices/"+phone, "")
	if resp.StatusCode != 200 || decode[struct {
		N int `json:"sessions_ended"`
	}](t, body).N != 1 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	if el, err := p.Expect(wait, xmpptest.IsStreamError); err != nil || xmpptest.StreamErrorCondition(el) != "not-authorized" {
		t.Fatalf("phone's session: %v, %v", el, err)
	}
	var ae *xmpptest.AuthError
	if _, err := login(phone, token); !errors.As(err, &ae) || ae.Condition != "not-authorized" {
		t.Fatalf("revoked token: %v", err)
	}
	if _, err := e.srv.Store().FastDevice(context.Background(), "alice", phone); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("device kept: %v", err)
	}
	if _, err := l.IQ(wait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil {
		t.Fatalf("the laptop's session: %v", err)
	}
	resp, _ = e.do(t, e.tokens[control.RoleHelpdesk], "DELETE", "/api/v1/users/alice/devices/"+phone, "")
	if resp.StatusCode != 404 {
		t.Fatalf("revoking again: %d", resp.StatusCode)
	}
	resp, body = e.do(t, e.tokens[control.RoleAuditor], "GET", "/api/v1/audit?action=device-revoked", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "device-revoked") {
		t.Fatalf("audit: %d %s", resp.StatusCode, body)
	}
}
