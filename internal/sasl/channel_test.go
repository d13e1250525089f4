package sasl

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"testing"
)

// The SCRAM-SHA-1-PLUS exchange of XEP-0474 §5.3, byte for byte: channel
// binding with tls-exporter (the example's binding data stand in for a
// real channel's) and the downgrade protection hash "h" over the
// advertised mechanisms and binding types. (XEP-0388 §2.5's example is
// not usable: its proof does not follow from its own messages and
// password, as Python's hashlib confirms.)
func TestPlusVectors(t *testing.T) {
	const (
		cnonce = "12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6"
		snonce = "a09117a6-ac50-4f2f-93f1-93799c2bddf6"
		first  = "p=tls-exporter,,n=user,r=" + cnonce
	)
	for i, tc := range []struct {
		cbData             string // base64
		offer              []string
		serverFirst, final string
		serverFinal        string
	}{
		0: {base64.StdEncoding.EncodeToString([]byte("THIS IS FAKE CB DATA")), []string{ScramSHA1, ScramSHA1Plus},
			"r=" + cnonce + snonce + ",s=QSXCR+Q6sek8bf92,i=4096,h=G6k/rBLDqgOhRRaCuuatSDFkJ08=",
			"c=cD10bHMtZXhwb3J0ZXIsLFRISVMgSVMgRkFLRSBDQiBEQVRB,r=" + cnonce + snonce + ",x=19C6532F-1CF4-4A27-A18D-DC9CEA41BBB3,p=M/SIDjT+dfcxUh89jZEypRvFxB4=",
			"v=MQrMPvv7yv4x4Cq4W4Ih25EqS2c="},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			salt, _ := base64.StdEncoding.DecodeString("QSXCR+Q6sek8bf92")
			cb, _ := base64.StdEncoding.DecodeString(tc.cbData)
			cfg := &Config{Lookup: users{"user": "pencil"}.lookup(t, salt), Domain: "example.org"}
			// The second example also advertises tls-server-end-point.
			ch := Channel{Secure: true, Bindings: map[string][]byte{TLSExporter: cb, TLSServerEndPoint: {0}}}
			s, err := NewServerOn(ScramSHA1Plus, cfg, Offer{Channel: ch, Mechanisms: tc.offer})
			if err != nil {
				t.Fatal(err)
			}
			s.nonce = fixedNonce(snonce)
			ctx := context.Background()
			out, _, err := s.Step(ctx, []byte(first))
			if err != nil || string(out) != tc.serverFirst {
				t.Fatalf("server-first = %q, %v; want %q", out, err, tc.serverFirst)
			}
			out, done, err := s.Step(ctx, []byte(tc.final))
			if err != nil || !done || string(out) != tc.serverFinal {
				t.Fatalf("server-final = %q, %v, %v; want %q", out, done, err, tc.serverFinal)
			}
		})
	}
}

// RFC 5802 §6 and §7: what a -PLUS exchange, and a plain one on a channel
// that offers -PLUS, must refuse.
func TestChannelBindingRules(t *testing.T) {
	cfg := testConfig(t)
	ch := Channel{Secure: true, Bindings: map[string][]byte{TLSExporter: []byte("exporter-data-32-bytes-long....."), TLSServerEndPoint: []byte("end-point")}}
	offer := Offer{Channel: ch, Mechanisms: Mechanisms(ch)}
	for i, tc := range []struct {
		mech, gs2 string
		cb        []byte // binding data the client puts in c=
		offer     Offer
		want      Condition // "" for success
	}{
		0:  {ScramSHA256Plus, "p=tls-exporter,,", ch.Bindings[TLSExporter], offer, ""},
		1:  {ScramSHA256Plus, "p=tls-server-end-point,,", ch.Bindings[TLSServerEndPoint], offer, ""},
		2:  {ScramSHA1Plus, "p=tls-exporter,,", ch.Bindings[TLSExporter], offer, ""},
		3:  {ScramSHA256Plus, "p=tls-exporter,,", []byte("another channel's data.........."), offer, NotAuthorized},
		4:  {ScramSHA256Plus, "p=tls-exporter,,", ch.Bindings[TLSServerEndPoint], offer, NotAuthorized},
		5:  {ScramSHA256Plus, "p=tls-exporter,,", nil, offer, NotAuthorized},
		6:  {ScramSHA256Plus, "p=tls-unique,,", nil, offer, MalformedRequest},
		7:  {ScramSHA256Plus, "n,,", nil, offer, MalformedRequest},
		8:  {ScramSHA256Plus, "y,,", nil, offer, MalformedRequest},
		9:  {ScramSHA256, "p=tls-exporter,,", ch.Bindings[TLSExporter], offer, MalformedRequest},
		10: {ScramSHA256, "y,,", nil, offer, NotAuthorized}, // downgrade seen
		11: {ScramSHA256, "n,,", nil, offer, ""},
		12: {ScramSHA256, "y,,", nil, Offer{Channel: Channel{Secure: true}, Mechanisms: []string{ScramSHA256}}, ""},
		13: {ScramSHA256Plus, "p=tls-exporter,a=juliet@example.com,", ch.Bindings[TLSExporter], offer, ""},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s, err := NewServerOn(tc.mech, cfg, tc.offer)
			if err != nil {
				t.Fatal(err)
			}
			h := SHA256
			if tc.mech == ScramSHA1Plus {
				h = SHA1
			}
			c := newClient(h, tc.gs2, "juliet", "clientnonce")
			c.cbData = tc.cb
			ctx := context.Background()
			sf, _, err := s.Step(ctx, c.first())
			if err == nil {
				var final []byte
				final, _ = c.final(t, "r0m30myr0m30", string(sf))
				_, _, err = s.Step(ctx, final)
			}
			var f *Failure
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("failed: %v", err)
			case tc.want != "" && (!errors.As(err, &f) || f.Condition != tc.want):
				t.Fatalf("err = %v, want %s", err, tc.want)
			}
		})
	}
	if _, err := NewServerOn(ScramSHA256Plus, cfg, Offer{Channel: Channel{Secure: true}}); !errors.Is(err, &Failure{Condition: InvalidMechanism}) {
		t.Fatalf("-PLUS without bindings: %v", err)
	}
}
