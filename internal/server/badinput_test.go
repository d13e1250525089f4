package server_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

func streamHeader(domain string) string {
	return "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='" +
		domain + "' version='1.0'>"
}

// rawStream writes out to conn and returns the stream header and the
// first n elements the server sends.
func rawStream(t *testing.T, conn net.Conn, out string, n int) []*xmlstream.Element {
	t.Helper()
	conn.SetDeadline(time.Now().Add(wait))
	if _, err := conn.Write([]byte(out)); err != nil {
		t.Fatal(err)
	}
	r := xmlstream.NewReader(conn, xmlstream.Limits{MaxStanza: 1 << 20})
	var got []*xmlstream.Element
	for len(got) < n+1 {
		tok, err := r.Next()
		if err != nil {
			t.Fatalf("after %d elements: %v", len(got), err)
		}
		if tok.Kind != xmlstream.StreamEnd {
			got = append(got, tok.El)
		}
	}
	return got
}

// streamErrorAfter writes out to conn (without waiting for the write to
// finish: the server may stop reading) and reads until a stream error
// arrives. It returns the condition and whether the server then closed the
// connection.
func streamErrorAfter(t *testing.T, conn net.Conn, out []byte) (cond string, closed bool) {
	t.Helper()
	conn.SetDeadline(time.Now().Add(wait))
	go conn.Write(out) // may fail with a reset once the server gives up
	r := xmlstream.NewReader(conn, xmlstream.Limits{MaxStanza: 1 << 20})
	for {
		tok, err := r.Next()
		if err != nil {
			t.Fatalf("no stream error before %v", err)
		}
		if tok.Kind == xmlstream.StreamElement {
			if cond = xmpptest.StreamErrorCondition(tok.El); cond != "" {
				break
			}
		}
	}
	for {
		tok, err := r.Next()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return cond, false
		}
		if err != nil || tok.Kind == xmlstream.StreamEnd {
			// The end tag may come first; then the connection must close.
			if err == nil {
				buf := make([]byte, 1)
				_, err = conn.Read(buf)
				return cond, err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
			}
			return cond, true
		}
	}
}

// billionLaughs is the classic entity bomb: ten levels of ten references.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE lolz [<!ENTITY lol0 "lol">`)
	for i := 1; i <= 9; i++ {
		b.WriteString(`<!ENTITY lol` + strconv.Itoa(i) + ` "`)
		for range 10 {
			b.WriteString(`&lol` + strconv.Itoa(i-1) + `;`)
		}
		b.WriteString(`">`)
	}
	b.WriteString(`]>`)
	return b.String()
}

// RFC 6120 §4.9.3 and §11: hostile input ends the stream with the matching
// stream error, quickly, and the server keeps serving everyone else.
func TestBadInput(t *testing.T) {
	srv := newServer(t, nil)
	bystander := online(t, srv, "carol", "watch")
	hdr := streamHeader("localhost")
	tests := []struct {
		name string
		tls  bool // STARTTLS-less direct TLS listener
		out  string
		want string
	}{
		{"DTD before the header", false, "<?xml version='1.0'?>" + billionLaughs() + hdr[len("<?xml version='1.0'?>"):], "restricted-xml"},
		{"entity bomb after the header", false, hdr + billionLaughs() + "<message>&lol9;</message>", "restricted-xml"},
		{"DTD inside a stanza", false, hdr + "<message><!DOCTYPE x [<!ENTITY a 'b'>]></message>", "restricted-xml"},
		{"undeclared entity", false, hdr + "<message><body>&lol9;</body></message>", "restricted-xml"},
		{"comment", false, hdr + "<message><!-- hi --></message>", "restricted-xml"},
		{"processing instruction", false, hdr + "<?evil?>", "restricted-xml"},
		{"garbage", false, "\x00\x01\x02 GET / HTTP/1.1\r\n\r\n", "not-well-formed"},
		{"garbage after the header", false, hdr + "<<<>>>", "not-well-formed"},
		{"mismatched tags", false, hdr + "<message></presence>", "not-well-formed"},
		{"wrong domain", false, streamHeader("example.org"), "host-unknown"},
		{"wrong domain over TLS", true, streamHeader("example.org"), "host-unknown"},
		{"over-deep nesting", false, hdr + strings.Repeat("<a>", 1000), "policy-violation"},
		{"1 MiB stanza before auth", false, hdr + "<message><body>" + strings.Repeat("x", 1<<20) + "</body></message>", "policy-violation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, cfg := srv.C2S(), xmpptestTLS(false)
			if tc.tls {
				addr, cfg = srv.C2STLS(), xmpptestTLS(true)
			}
			conn, err := xmpptest.DialRaw(context.Background(), addr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			start := time.Now()
			cond, closed := streamErrorAfter(t, conn, []byte(tc.out))
			if cond != tc.want {
				t.Errorf("stream error <%s/>, want <%s/>", cond, tc.want)
			}
			if !closed {
				t.Error("the server left the connection open after a stream error")
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v to reject", d)
			}
			// Everyone else is still served, and so is a new client.
			ping(t, bystander)
			ping(t, login(t, srv, "alice", "after-"+strings.ReplaceAll(tc.name, " ", "-")))
		})
	}
}

func xmpptestTLS(on bool) *tls.Config {
	if !on {
		return nil
	}
	return xmpptest.InsecureTLS("localhost")
}

// DESIGN.md limits: a stanza over max_stanza (256 KiB) from an
// authenticated client is a policy-violation, and the server closes.
func TestOversizedStanzaAuthenticated(t *testing.T) {
	srv := newServer(t, nil)
	alice := login(t, srv, "alice", "big")
	bob := online(t, srv, "bob", "phone")
	big := "<message to='bob@localhost/phone'><body>" + strings.Repeat("y", 1<<20) + "</body></message>"
	go alice.Send(big) // the server stops reading part way
	el := expect(t, alice, "policy-violation", xmpptest.IsStreamError)
	if got := xmpptest.StreamErrorCondition(el); got != "policy-violation" {
		t.Fatalf("stream error %s, want <policy-violation/>", el)
	}
	if _, err := alice.Recv(wait); !errors.Is(err, io.EOF) && err == nil {
		t.Fatal("stream stayed open after the stream error")
	}
	if _, err := bob.Expect(300*time.Millisecond, xmpptest.Stanza("message", "", "")); err == nil {
		t.Error("part of the oversized message was delivered")
	}
	ping(t, bob)
	ping(t, login(t, srv, "alice", "again"))
}
