package c2s_test

import (
	"context"
	"crypto/tls"
	"errors"
	"strconv"
	"strings"
	"testing"

	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// mechanisms lists what <mechanisms/> and XEP-0440's
// <sasl-channel-binding/> offered.
func mechanisms(f *xmlstream.Element) (mechs, types string) {
	var m, t []string
	if el := f.Child("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl"); el != nil {
		for _, c := range el.Children {
			m = append(m, c.Text)
		}
	}
	if el := f.Child("sasl-channel-binding", "urn:xmpp:sasl-cb:0"); el != nil {
		for _, c := range el.Children {
			t = append(t, c.Get("type"))
		}
	}
	return strings.Join(m, " "), strings.Join(t, " ")
}

// TestChannelBinding logs in over real TLS (STARTTLS and direct TLS) with
// SCRAM-SHA-256-PLUS and SCRAM-SHA-1-PLUS bound to tls-exporter (RFC 9266)
// and tls-server-end-point (RFC 5929), the binding data computed by the
// test client from its own side of the connection; a channel that is not
// the server's, and a client saying "y" where -PLUS is offered (a
// downgrade, RFC 5802 §6), are refused. Every SCRAM server-first carries
// a XEP-0474 hash that matches what the client was offered.
func TestChannelBinding(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	srv.AddUser(t, "alice", "pw-alice")
	ctx := context.Background()
	for i, tc := range []struct {
		direct  bool
		mech    string
		cb      string
		data    []byte
		tls12   bool
		want    string // SASL failure condition; "" for success
		offered string // binding types offered
	}{
		0:  {false, "SCRAM-SHA-256-PLUS", "tls-exporter", nil, false, "", "tls-exporter tls-server-end-point"},
		1:  {false, "SCRAM-SHA-256-PLUS", "tls-server-end-point", nil, false, "", "tls-exporter tls-server-end-point"},
		2:  {false, "SCRAM-SHA-1-PLUS", "tls-exporter", nil, false, "", "tls-exporter tls-server-end-point"},
		3:  {false, "SCRAM-SHA-1-PLUS", "tls-server-end-point", nil, false, "", "tls-exporter tls-server-end-point"},
		4:  {true, "SCRAM-SHA-256-PLUS", "tls-exporter", nil, false, "", "tls-exporter tls-server-end-point"},
		5:  {true, "SCRAM-SHA-1-PLUS", "tls-server-end-point", nil, false, "", "tls-exporter tls-server-end-point"},
		6:  {false, "SCRAM-SHA-256-PLUS", "tls-exporter", make([]byte, 32), false, "not-authorized", "tls-exporter tls-server-end-point"},
		7:  {true, "SCRAM-SHA-256-PLUS", "tls-server-end-point", make([]byte, 32), false, "not-authorized", "tls-exporter tls-server-end-point"},
		8:  {false, "SCRAM-SHA-256", "y", nil, false, "not-authorized", "tls-exporter tls-server-end-point"},
		9:  {false, "SCRAM-SHA-256", "", nil, false, "", "tls-exporter tls-server-end-point"},
		10: {false, "SCRAM-SHA-256-PLUS", "tls-server-end-point", nil, true, "", "tls-server-end-point"},
		11: {false, "SCRAM-SHA-256-PLUS", "tls-exporter", []byte("x"), true, "malformed-request", "tls-server-end-point"},
		// The same in XEP-0388's profile, with Bind 2.
		12: {false, "SCRAM-SHA-256-PLUS", "tls-exporter", nil, false, "", "tls-exporter tls-server-end-point"},
		13: {true, "SCRAM-SHA-1-PLUS", "tls-server-end-point", nil, false, "", "tls-exporter tls-server-end-point"},
		14: {false, "SCRAM-SHA-256-PLUS", "tls-exporter", make([]byte, 32), false, "not-authorized", "tls-exporter tls-server-end-point"},
		15: {false, "SCRAM-SHA-256", "y", nil, false, "not-authorized", "tls-exporter tls-server-end-point"},
		16: {true, "PLAIN", "", nil, false, "", "tls-exporter tls-server-end-point"},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			o := xmpptest.Options{User: "alice", Password: "pw-alice", Mechanism: tc.mech, ChannelBinding: tc.cb,
				ChannelBindingData: tc.data, DirectTLS: tc.direct}
			if i >= 12 {
				o.SASL2 = &xmpptest.SASL2{UserAgent: "d4565fa7-4d72-4749-b3d3-740edbf87770", Bind: true, Tag: "AwesomeXMPP"}
			}
			if tc.tls12 {
				o.TLSConfig = &tls.Config{ServerName: "localhost", InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12}
			}
			addr := srv.C2S()
			if tc.direct {
				addr = srv.C2STLS()
			}
			c, err := xmpptest.Dial(ctx, addr, o)
			var ae *xmpptest.AuthError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("login: %v", err)
			case tc.want != "" && (!errors.As(err, &ae) || ae.Condition != tc.want):
				t.Fatalf("login: %v, want %s", err, tc.want)
			case tc.want != "":
				return
			}
			defer c.Close()
			mechs, types := mechanisms(c.Offered)
			if types != tc.offered {
				t.Errorf("binding types offered %q, want %q", types, tc.offered)
			}
			if want := "SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-1 PLAIN"; mechs != want {
				t.Errorf("mechanisms %q, want %q", mechs, want)
			}
			if !c.SSDP && tc.mech != "PLAIN" {
				t.Error("no XEP-0474 hash in the server-first-message")
			}
			if o.SASL2 != nil && !strings.HasPrefix(c.JID, "alice@localhost/AwesomeXMPP/") {
				t.Errorf("Bind 2 bound %q", c.JID)
			}
		})
	}
}
