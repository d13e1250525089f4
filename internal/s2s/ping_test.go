package s2s

import (
	"context"
	"fmt"
	"testing"
	"time"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmpptest"
)

// link returns p's outbound link to domain, nil if none.
func (p *peer) link(domain string) *link {
	p.svc.mu.Lock()
	defer p.svc.mu.Unlock()
	return p.svc.links[domain]
}

// TestIdlePingAnswered: an idle outbound link pings the peer's domain
// (XEP-0199 §4.3); the answer comes back on the peer's own stream, is
// taken by the link and not routed, and the link stays up across several
// rounds.
func TestIdlePingAnswered(t *testing.T) {
	a, b, _ := pair(t)
	a.svc.o.PingInterval = 20 * time.Millisecond
	a.svc.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", "one"))
	if got := b.r.next(t); got.El.ChildText("body", stanza.NSClient) != "one" {
		t.Fatalf("b got %s", got.Bytes())
	}
	first := a.link("b.test")
	for range 3 {
		// b's router sees the ping to its domain and answers it, as the
		// ping module does (internal/server: TestFederationPing).
		p := b.r.next(t)
		if p.Kind != stanza.IQ || p.Type != "get" || p.From.String() != "a.test" || p.To.String() != "b.test" ||
			p.El.Child("ping", nsPing) == nil {
			t.Fatalf("b got %s", p.Bytes())
		}
		b.svc.Send(context.Background(), stanza.New(stanza.IQ, jid.MustParse("b.test"), jid.MustParse("a.test"), "result", p.ID))
	}
	if cur := a.link("b.test"); cur != first {
		t.Fatal("link replaced although its pings were answered")
	}
	a.r.none(t, "a ping answer must stay in s2s")
}

// TestIdlePingUnanswered: a peer that does not answer a ping within
// PingTimeout loses the link; the next stanza goes over a new one.
func TestIdlePingUnanswered(t *testing.T) {
	a, b, _ := pair(t)
	a.svc.o.PingInterval = 20 * time.Millisecond
	a.svc.o.PingTimeout = 50 * time.Millisecond
	a.svc.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", "one"))
	b.r.next(t)
	first := a.link("b.test")
	if first == nil {
		t.Fatal("no link")
	}
	if p := b.r.next(t); p.Kind != stanza.IQ || p.El.Child("ping", nsPing) == nil {
		t.Fatalf("b got %s", p.Bytes())
	}
	xmpptest.Eventually(t, 10*time.Second, func() error {
		if l := a.link("b.test"); l == first {
			return fmt.Errorf("link still up")
		}
		return nil
	})
	xmpptest.Eventually(t, 10*time.Second, func() error {
		a.svc.mu.Lock()
		defer a.svc.mu.Unlock()
		if n := len(a.svc.pings); n != 0 {
			return fmt.Errorf("%d pings still registered", n)
		}
		return nil
	})
	a.svc.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", "two"))
	for {
		got := b.r.next(t)
		if got.El.ChildText("body", stanza.NSClient) == "two" {
			break
		}
		if got.Kind != stanza.IQ { // more pings from the new link are fine
			t.Fatalf("b got %s", got.Bytes())
		}
	}
	// Nothing bounced to a: the ping itself is never resent or bounced.
	a.r.none(t, "a")
}
