package extdisco

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/clock"
	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// TestCredentialVector checks the TURN REST API math against a vector
// computed outside Go:
//
//	printf '%s' '1700003600:juliet@example.com' | openssl dgst -sha1 -hmac 'north wind' -binary | base64
func TestCredentialVector(t *testing.T) {
	user, pass := Credentials("north wind", jid.MustParse("juliet@example.com/balcony"), time.Unix(1700003600, 0))
	if user != "1700003600:juliet@example.com" || pass != "Q4qYx3NDS145bvIAyN45+hZ/YBs=" {
		t.Fatalf("got %q %q", user, pass)
	}
}

func newModule(t *testing.T) *Module {
	t.Helper()
	m := New(Options{Clock: clock.NewFake(time.Unix(1700000000, 0)), Services: []Service{
		{Type: "stun", Host: "stun.example.com", Port: 3478, Transport: "udp"},
		{Type: "turn", Host: "turn.example.com", Port: 3478, Transport: "udp", Secret: "north wind", CredentialTTL: time.Hour, Name: "Relay"},
		{Type: "turn", Host: "turn.example.com", Port: 5349, Transport: "tcp", Secret: "north wind"},
	}})
	m.Register(router.New(jid.MustParse("example.com"), imtest.Accounts{}, nil))
	return m
}

// summary lists services as "type host port transport [username password expires]".
func summary(el *xmlstream.Element) []string {
	var out []string
	for _, c := range el.Children {
		s := c.Get("type") + " " + c.Get("host") + " " + c.Get("port") + " " + c.Get("transport")
		if c.Get("username") != "" {
			s += " " + c.Get("username") + " " + c.Get("password") + " " + c.Get("expires") + " " + c.Get("restricted")
		}
		out = append(out, s)
	}
	return out
}

// TestHandle follows XEP-0215 §3's examples: all services, services of a
// type, credentials for host and type (and port), and the errors.
func TestHandle(t *testing.T) {
	m := newModule(t)
	// juliet@example.com, expiring 1 h after the fake clock's 1700000000.
	const hour = "turn turn.example.com 3478 udp 1700003600:juliet@example.com Q4qYx3NDS145bvIAyN45+hZ/YBs= 2023-11-14T23:13:20Z 1"
	const day = "turn turn.example.com 5349 tcp 1700086400:juliet@example.com "
	const juliet = `from='juliet@example.com/balcony' id='1'`
	tests := []struct {
		iq   string
		want []string // prefixes of the services' summaries
		err  *stanza.Error
	}{
		0: {iq: `<iq type='get' to='example.com' ` + juliet + `><services xmlns='urn:xmpp:extdisco:2'/></iq>`,
			want: []string{"stun stun.example.com 3478 udp", hour, day}},
		1: {iq: `<iq type='get' to='example.com' ` + juliet + `><services xmlns='urn:xmpp:extdisco:2' type='stun'/></iq>`,
			want: []string{"stun stun.example.com 3478 udp"}},
		2: {iq: `<iq type='get' to='example.com' ` + juliet + `><credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.example.com' type='turn'/></credentials></iq>`,
			want: []string{hour, day}},
		3: {iq: `<iq type='get' to='example.com' ` + juliet + `><credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.example.com' type='turn' port='5349'/></credentials></iq>`,
			want: []string{day}},
		4: {iq: `<iq type='get' to='example.com' ` + juliet + `><credentials xmlns='urn:xmpp:extdisco:2'><service host='stun.example.com' type='stun'/></credentials></iq>`,
			err: stanza.ErrItemNotFound},
		5: {iq: `<iq type='get' to='example.com' ` + juliet + `><credentials xmlns='urn:xmpp:extdisco:2'><service type='turn'/></credentials></iq>`,
			err: stanza.ErrBadRequest},
		6: {iq: `<iq type='get' to='example.com' from='romeo@montague.example/x' id='1'><services xmlns='urn:xmpp:extdisco:2'/></iq>`,
			err: stanza.ErrForbidden},
		7: {iq: `<iq type='set' to='example.com' ` + juliet + `><services xmlns='urn:xmpp:extdisco:2'/></iq>`,
			err: stanza.ErrNotAllowed},
		8: {iq: `<iq type='get' to='romeo@example.com' ` + juliet + `><services xmlns='urn:xmpp:extdisco:2'/></iq>`,
			err: stanza.ErrServiceUnavailable},
		9: {iq: `<iq type='get' to='example.com' ` + juliet + `><service xmlns='urn:xmpp:extdisco:2'/></iq>`,
			err: stanza.ErrBadRequest},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			res, ok := imtest.Handle(t, m.Handle, tc.iq, tc.err)
			if !ok {
				return
			}
			got := summary(res)
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for j := range got {
				if !strings.HasPrefix(got[j], tc.want[j]) {
					t.Errorf("service %d: %q, want %q", j, got[j], tc.want[j])
				}
			}
		})
	}
}

// TestNoServices: without configured services nothing is registered, so
// the server answers service-unavailable and advertises nothing.
func TestNoServices(t *testing.T) {
	r := router.New(jid.MustParse("example.com"), imtest.Accounts{}, nil)
	New(Options{}).Register(r)
	for _, f := range r.Features() {
		if f == NS {
			t.Fatal("advertised without services")
		}
	}
}
