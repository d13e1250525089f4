package s2s

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/xmpptest"
)

const compSecret = "sixteen chars at least"

// components starts the listener with gateway.example.com and a router
// where alice@example.com/desk is bound.
func components(t *testing.T) (*Components, string, *router.Router, *imtest.Session) {
	t.Helper()
	r := router.New(jid.MustParse("example.com"), imtest.Accounts{"alice": true}, nil)
	cs := NewComponents(ComponentOptions{Secrets: map[string]string{"gateway.example.com": compSecret},
		Timeout: 5 * time.Second, MaxQueue: 4, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	cs.Register(r)
	alice := imtest.NewSession(t, "alice@example.com/desk")
	r.Bind(alice)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go cs.Serve(ln)
	t.Cleanup(func() { ln.Close(); cs.Close() })
	return cs, ln.Addr().String(), r, alice
}

// peer is a component's side of the stream, written by hand.
type compPeer struct {
	c  net.Conn
	rd *bufio.Reader
}

var streamID = regexp.MustCompile(`id='([0-9a-f]+)'`)

// dial opens a stream to domain and returns the server's stream id.
func dialComponent(t *testing.T, addr, domain string) (*compPeer, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	p := &compPeer{c: c, rd: bufio.NewReader(c)}
	p.send(t, "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='"+domain+"'>")
	head := p.until(t, ">")
	head += p.until(t, ">") // <?xml ...?> then <stream:stream ...>
	m := streamID.FindStringSubmatch(head)
	if m == nil {
		t.Fatalf("no stream id in %q", head)
	}
	return p, m[1]
}

func (p *compPeer) send(t *testing.T, s string) {
	t.Helper()
	if _, err := p.c.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

// until reads up to and including the first occurrence of end.
func (p *compPeer) until(t *testing.T, end string) string {
	t.Helper()
	var b strings.Builder
	for !strings.HasSuffix(b.String(), end) {
		c, err := p.rd.ReadByte()
		if err != nil {
			t.Fatalf("read after %q: %v", b.String(), err)
		}
		b.WriteByte(c)
	}
	return b.String()
}

func handshake(id, secret string) string {
	sum := sha1.Sum([]byte(id + secret))
	return "<handshake>" + hex.EncodeToString(sum[:]) + "</handshake>"
}

// connected completes the handshake.
func connected(t *testing.T, addr string) *compPeer {
	t.Helper()
	p, id := dialComponent(t, addr, "gateway.example.com")
	p.send(t, handshake(id, compSecret))
	if got := p.until(t, "<handshake/>"); !strings.HasSuffix(got, "<handshake/>") {
		t.Fatalf("handshake answered %q", got)
	}
	return p
}

// TestComponentRefusals: a wrong secret, an unknown domain and a second
// stream for a connected domain end with the XEP-0114 / RFC 6120 stream
// errors.
func TestComponentRefusals(t *testing.T) {
	_, addr, _, _ := components(t)
	p, id := dialComponent(t, addr, "gateway.example.com")
	p.send(t, handshake(id, "not the secret"))
	if got := p.until(t, "</stream:stream>"); !strings.Contains(got, "<not-authorized") {
		t.Errorf("wrong secret: %q", got)
	}
	p, _ = dialComponent(t, addr, "other.example.com")
	if got := p.until(t, "</stream:stream>"); !strings.Contains(got, "<host-unknown") {
		t.Errorf("unknown domain: %q", got)
	}
	connected(t, addr)
	p, id = dialComponent(t, addr, "gateway.example.com")
	p.send(t, handshake(id, compSecret))
	if got := p.until(t, "</stream:stream>"); !strings.Contains(got, "<conflict") {
		t.Errorf("second stream: %q", got)
	}
}

// TestComponentStanzas: stanzas for the domain reach the component in its
// namespace; its stanzas reach local users; one from outside its domain
// ends the stream with invalid-from; once it is gone, stanzas for it
// bounce with service-unavailable.
func TestComponentStanzas(t *testing.T) {
	_, addr, r, alice := components(t)
	ctx := context.Background()
	p := connected(t, addr)

	r.Route(ctx, imtest.Parse(t, "<message type='chat' id='m1' from='alice@example.com/desk' to='bot@gateway.example.com'><body>hi</body></message>"))
	// In the stream's default namespace: no xmlns='jabber:client' on it.
	want := "<message type='chat' id='m1' from='alice@example.com/desk' to='bot@gateway.example.com'><body>hi</body></message>"
	if got := p.until(t, "</message>"); got != want {
		t.Errorf("component got %q, want %q", got, want)
	}

	p.send(t, "<message type='chat' from='bot@gateway.example.com' to='alice@example.com/desk'><body>hello</body></message>")
	xmpptest.Eventually(t, 10*time.Second, func() error {
		if got := alice.Take(); len(got) != 1 || got[0].El.ChildText("body", "") != "hello" {
			return fmt.Errorf("alice got %v", got)
		}
		return nil
	})

	p.send(t, "<message from='bot@evil.example.com' to='alice@example.com/desk'><body>spoof</body></message>")
	if got := p.until(t, "</stream:stream>"); !strings.Contains(got, "<invalid-from") {
		t.Errorf("spoofed from: %q", got)
	}
	xmpptest.Eventually(t, 10*time.Second, func() error {
		r.Route(ctx, imtest.Parse(t, "<message type='chat' id='m2' from='alice@example.com/desk' to='bot@gateway.example.com'><body>again</body></message>"))
		got := alice.Take()
		for _, st := range got {
			if st.Type == "error" && strings.Contains(st.El.String(), "service-unavailable") {
				return nil
			}
		}
		return fmt.Errorf("alice got %v", got)
	})
}
