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
// (XEP-0484), SCRAM-*-PLUS with tls-exporter and tls-server-end-point
// (XEP-0440) and checks XEP-0474's downgrade protection hash. It logs
// in with channel binding and asks for a token, then logs in with the
// token alone, and each session carries a message to a parley client.
// (Debian's go-sendxmpp is built on the 2022 mattn/go-xmpp, which has
// none of these, and slixmpp 1.8 has neither SASL2 nor tls-exporter.)
func TestGoXMPPModernLogin(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	srv.AddUser(t, "alice", password)
	srv.AddUser(t, "bob", password)
	bob := srv.Online(t, "bob", password, "desk")
	const phone = "d4565fa7-4d72-4749-b3d3-740edbf87770"
	tlsConfig := func(max uint16) *tls.Config {
		return &tls.Config{ServerName: "localhost", InsecureSkipVerify: true, MaxVersion: max}
	}
	login := func(t *testing.T, o goxmpp.Options) *goxmpp.Client {
		t.Helper()
		o.User, o.Password, o.Resource = "alice@localhost", password, ""
		o.SSDP, o.NoPLAIN, o.UserAgentID, o.UserAgentSW, o.UserAgentDev = true, true, phone, "go-xmpp", "test phone"
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

	var token, mech string
	for i, tc := range []struct {
		name   string
		o      goxmpp.Options
		want   string // mechanism used
		direct bool
	}{
		{"tls-exporter", goxmpp.Options{NoTLS: true, StartTLS: true, TLSConfig: tlsConfig(0), Fast: true}, "SCRAM-SHA-256-PLUS", false},
		{"tls-server-end-point over TLS 1.2", goxmpp.Options{NoTLS: true, StartTLS: true, TLSConfig: tlsConfig(tls.VersionTLS12)}, "SCRAM-SHA-256-PLUS", false},
		{"SCRAM-SHA-1-PLUS over direct TLS", goxmpp.Options{TLSConfig: tlsConfig(0), Mechanism: "SCRAM-SHA-1-PLUS"}, "SCRAM-SHA-1-PLUS", true},
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
			if i == 0 {
				token, mech = c.Fast.Token, c.Fast.Mechanism
				if token == "" || mech != "HT-SHA-256-NONE" {
					t.Fatalf("FAST token %q for %q", token, mech)
				}
			}
			say(t, c, "hello over "+tc.name)
		})
	}
	t.Run("FAST token", func(t *testing.T) {
		if token == "" {
			t.Skip("no token from the first login")
		}
		c := login(t, goxmpp.Options{Host: srv.C2S(), NoTLS: true, StartTLS: true, TLSConfig: tlsConfig(0), Fast: true,
			FastToken: token, FastMechanism: mech})
		if c.Mechanism != "HT-SHA-256-NONE" {
			t.Fatalf("mechanism %q", c.Mechanism)
		}
		say(t, c, "hello with a token")
		d, err := srv.Store().FastDevice(context.Background(), "alice", phone)
		if err != nil || d.Used.IsZero() || d.Software != "go-xmpp" {
			t.Fatalf("device %+v, %v", d, err)
		}
	})
}
