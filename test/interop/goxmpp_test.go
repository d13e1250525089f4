package interop

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	goxmpp "github.com/xmppo/go-xmpp"

	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestGoXMPPModernLogin drives github.com/xmppo/go-xmpp, a third-party
// client library that speaks SASL2 (XEP-0388), Bind 2 (XEP-0386), FAST
// (XEP-0484) with HT-SHA-256-EXPR and -ENDP, SCRAM-*-PLUS with
// tls-exporter and tls-server-end-point (XEP-0440) and checks XEP-0474's
// downgrade protection hash. It logs in with channel binding and asks for
// a token (bound to tls-exporter over TLS 1.3, to tls-server-end-point
// over TLS 1.2, as go-xmpp picks from what is offered), then logs in with
// the token alone, and each session carries a message to a parley client.
// (Debian's go-sendxmpp is built on the 2022 mattn/go-xmpp, which has
// none of these, and slixmpp 1.8 has neither SASL2 nor tls-exporter.)
func TestGoXMPPModernLogin(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	srv.AddUsers(t, password, "alice", "bob")
	bob := srv.Online(t, "bob", password, "desk")
	const phone = "d4565fa7-4d72-4749-b3d3-740edbf87770"
	const laptop = "6f1c2a0e-5b3d-4e8f-9a7b-2c4d6e8f0a1b" // on TLS 1.2
	tlsConfig := func(max uint16) *tls.Config {
		return &tls.Config{ServerName: "localhost", InsecureSkipVerify: true, MaxVersion: max}
	}
	login := func(t *testing.T, o goxmpp.Options) *goxmpp.Client {
		t.Helper()
		o.User, o.Password, o.Resource = "alice@localhost", password, ""
		o.SSDP, o.NoPLAIN, o.UserAgentSW, o.UserAgentDev = true, true, "go-xmpp", "test phone"
		if o.UserAgentID == "" {
			o.UserAgentID = phone
		}
		o.DialTimeout = 10 * time.Second
		c, err := o.NewClient()
		if err != nil {
			t.Fatalf("go-xmpp login: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	say := func(t *testing.T, c *goxmpp.Client, body string) {
		t.Helper()
		if _, _, err := c.Send(goxmpp.Chat{Remote: "bob@localhost", Type: "chat", Text: body}); err != nil {
			t.Fatal(err)
		}
		xmpptest.MustExpect(t, bob, 10*time.Second, body, xmpptest.MessageBody(body))
	}

	tokens := map[string]goxmpp.Fast{} // by user-agent id
	for _, tc := range []struct {
		name     string
		o        goxmpp.Options
		want     string // mechanism used
		direct   bool
		wantFast string // mechanism of the token asked for
	}{
		{"tls-exporter", goxmpp.Options{NoTLS: true, StartTLS: true, TLSConfig: tlsConfig(0), Fast: true, UserAgentID: phone}, "SCRAM-SHA-256-PLUS", false, "HT-SHA-256-EXPR"},
		{"tls-server-end-point over TLS 1.2", goxmpp.Options{NoTLS: true, StartTLS: true, TLSConfig: tlsConfig(tls.VersionTLS12),
			Fast: true, UserAgentID: laptop}, "SCRAM-SHA-256-PLUS", false, "HT-SHA-256-ENDP"},
		{"SCRAM-SHA-1-PLUS over direct TLS", goxmpp.Options{TLSConfig: tlsConfig(0), Mechanism: "SCRAM-SHA-1-PLUS"}, "SCRAM-SHA-1-PLUS", true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Host = srv.C2S()
			if tc.direct {
				tc.o.Host = srv.C2STLS()
			}
			c := login(t, tc.o)
			if c.Mechanism != tc.want {
				t.Fatalf("mechanism %q, want %q", c.Mechanism, tc.want)
			}
			if tc.wantFast != "" {
				if c.Fast.Token == "" || c.Fast.Mechanism != tc.wantFast {
					t.Fatalf("FAST token %q for %q, want one for %s", c.Fast.Token, c.Fast.Mechanism, tc.wantFast)
				}
				tokens[tc.o.UserAgentID] = c.Fast
			}
			say(t, c, "hello over "+tc.name)
		})
	}
	for _, tc := range []struct {
		name   string
		device string
		max    uint16
	}{{"FAST token bound to tls-exporter", phone, 0}, {"FAST token bound to tls-server-end-point", laptop, tls.VersionTLS12}} {
		t.Run(tc.name, func(t *testing.T) {
			f := tokens[tc.device]
			if f.Token == "" {
				t.Fatal("no token from the password login")
			}
			// go-xmpp checks the server's responder message over the
			// same binding.
			c := login(t, goxmpp.Options{Host: srv.C2S(), NoTLS: true, StartTLS: true, TLSConfig: tlsConfig(tc.max), Fast: true,
				FastToken: f.Token, FastMechanism: f.Mechanism, UserAgentID: tc.device})
			if c.Mechanism != f.Mechanism {
				t.Fatalf("mechanism %q, want %q", c.Mechanism, f.Mechanism)
			}
			say(t, c, "hello with a token over "+f.Mechanism)
			d, err := srv.Store().FastDevice(context.Background(), "alice", tc.device)
			if err != nil || d.Used.IsZero() || d.Software != "go-xmpp" || d.Mechanism != f.Mechanism {
				t.Fatalf("device %+v, %v", d, err)
			}
		})
	}
}
