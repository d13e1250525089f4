package extdisco_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestTURNCredentialsOverTCP: a configured STUN and TURN server are
// listed to a local user (XEP-0215 §3.1), the TURN one with credentials
// a coturn sharing the secret accepts: the username's expiry is
// credential_ttl ahead and the password is the HMAC of the username
// (TURN REST API), also when asked for credentials alone (§3.3).
func TestTURNCredentialsOverTCP(t *testing.T) {
	const secret = "shared with coturn"
	srv := testserver.Start(t, func(c *config.Config) {
		c.ExternalServices = []config.ExternalService{
			{Type: "stun", Host: "stun.localhost", Port: 3478},
			{Type: "turn", Host: "turn.localhost", Port: 3478, Secret: secret, CredentialTTL: config.Duration{Duration: time.Hour}},
		}
	})
	c := srv.OnlineUsers(t, "extdisco pass 1", "phone", "carol")[0]
	check := func(svc string) {
		t.Helper()
		f := map[string]string{}
		for _, kv := range strings.Fields(svc) {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		exp, user, _ := strings.Cut(f["username"], ":")
		sec, err := strconv.ParseInt(exp, 10, 64)
		if err != nil || user != "carol@localhost" || f["type"] != "turn" || f["transport"] != "udp" {
			t.Fatalf("TURN service %s", svc)
		}
		if d := time.Until(time.Unix(sec, 0)); d < 59*time.Minute || d > time.Hour {
			t.Errorf("credentials expire in %v, want 1h", d)
		}
		mac := hmac.New(sha1.New, []byte(secret))
		mac.Write([]byte(f["username"]))
		if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); f["password"] != want {
			t.Errorf("password %q, want %q", f["password"], want)
		}
		if f["expires"] != time.Unix(sec, 0).UTC().Format("2006-01-02T15:04:05Z") {
			t.Errorf("expires %q for %d", f["expires"], sec)
		}
	}
	services := func(payload string) []string {
		t.Helper()
		res, err := c.IQ(10*time.Second, "get", "localhost", payload)
		if err != nil || res.Get("type") != "result" {
			t.Fatalf("%s: %s %v", payload, res, err)
		}
		var out []string
		for _, s := range res.FirstChild().Children {
			var b strings.Builder
			for _, a := range s.Attr {
				b.WriteString(a.Name + "=" + a.Value + " ")
			}
			out = append(out, b.String())
		}
		return out
	}
	all := services(`<services xmlns='urn:xmpp:extdisco:2'/>`)
	if len(all) != 2 || !strings.Contains(all[0], "type=stun host=stun.localhost port=3478 transport=udp") || strings.Contains(all[0], "password") {
		t.Fatalf("services: %q", all)
	}
	check(all[1])
	creds := services(`<credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.localhost' type='turn'/></credentials>`)
	if len(creds) != 1 {
		t.Fatalf("credentials: %q", creds)
	}
	check(creds[0])
	res, err := c.IQ(10*time.Second, "get", "localhost", `<credentials xmlns='urn:xmpp:extdisco:2'><service host='other.localhost' type='turn'/></credentials>`)
	if err != nil || xmpptest.StanzaErrorCondition(res) != "item-not-found" {
		t.Fatalf("unknown service: %s %v", res, err)
	}
}
