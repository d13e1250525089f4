package s2s

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

// fakeRouter records what the service hands the router.
type fakeRouter struct{ got chan *stanza.Stanza }

func (f *fakeRouter) Send(_ context.Context, st *stanza.Stanza)  { f.got <- st }
func (f *fakeRouter) Reply(_ context.Context, st *stanza.Stanza) { f.got <- st }

func (f *fakeRouter) next(t *testing.T) *stanza.Stanza {
	t.Helper()
	select {
	case st := <-f.got:
		return st
	case <-time.After(10 * time.Second):
		t.Fatal("nothing routed")
		return nil
	}
}

// none fails the test if anything was routed.
func (f *fakeRouter) none(t *testing.T, what string) {
	t.Helper()
	select {
	case got := <-f.got:
		t.Fatalf("%s: routed %s", what, got.Bytes())
	default:
	}
}

// sendMessage writes a chat message as a server sends it.
func sendMessage(t *testing.T, st *stream, from, to, body string) {
	st.writeEl(renamespace(msg(t, from, to, body).El, stanza.NSClient, stanza.NSServer))
}

// wantStreamError reads on until the stream ends and fails the test
// unless it ended with the stream error condition.
func wantStreamError(t *testing.T, st *stream, condition, what string) {
	t.Helper()
	if _, err := st.next(); err == nil || !strings.Contains(err.Error(), condition) {
		t.Fatalf("%s: %v, want %s", what, err, condition)
	}
}

// acceptTLS plays the receiving server, domain, of a stream from peer on
// c: it takes the stream header, requires STARTTLS and presents cert,
// then takes the new header and answers it; the features are the
// caller's.
func acceptTLS(c net.Conn, cert tls.Certificate, domain, peer string) *stream {
	st := newStream(c, xmlstream.Limits{})
	st.readHeader()
	st.header(domain, peer, "x")
	st.write([]byte("<stream:features><starttls xmlns='" + nsTLS + "'><required/></starttls></stream:features>"))
	st.next()
	st.write([]byte("<proceed xmlns='" + nsTLS + "'/>"))
	st.restart(tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}}))
	st.readHeader()
	st.header(domain, peer, "y")
	return st
}

type peer struct {
	svc    *Service
	r      *fakeRouter
	ln     net.Listener
	secret []byte
}

func listen(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// start runs a service for domain on ln with cert, trusting roots;
// configure, if given, changes its options first.
func start(t *testing.T, domain string, ln net.Listener, cert tls.Certificate, roots *x509.CertPool, routes map[string]string, configure ...func(*Options)) *peer {
	t.Helper()
	secret, err := LoadOrCreateSecret(filepath.Join(t.TempDir(), "dialback.secret"))
	if err != nil {
		t.Fatal(err)
	}
	r := &fakeRouter{got: make(chan *stanza.Stanza, 100)}
	o := Options{Domain: jid.MustParse(domain), TLS: &tls.Config{Certificates: []tls.Certificate{cert}},
		Roots: roots, Secret: secret, Routes: routes, Mode: ModeOpen, Timeout: 5 * time.Second}
	for _, c := range configure {
		c(&o)
	}
	svc := New(o)
	svc.SetRouter(r)
	go svc.Serve(ln)
	t.Cleanup(func() { ln.Close(); svc.Close() })
	return &peer{svc: svc, r: r, ln: ln, secret: secret}
}

func pair(t *testing.T) (a, b *peer, ca *xmpptest.CA) {
	ca = xmpptest.NewCA(t, "test CA")
	la, lb := listen(t), listen(t)
	routes := map[string]string{"a.test": la.Addr().String(), "b.test": lb.Addr().String()}
	a = start(t, "a.test", la, ca.Issue(t, "a.test"), ca.Pool, routes)
	b = start(t, "b.test", lb, ca.Issue(t, "b.test"), ca.Pool, routes)
	return a, b, ca
}

func msg(t *testing.T, from, to, body string) *stanza.Stanza {
	st := stanza.New(stanza.Message, jid.MustParse(from), jid.MustParse(to), "chat", stanza.NewID())
	st.El.Add(xmlstream.NewText("body", stanza.NSClient, body))
	return st
}

// TestFederateBothWays: SASL EXTERNAL with test-CA certificates, a chat
// message and a presence subscription each way.
func TestFederateBothWays(t *testing.T) {
	a, b, _ := pair(t)
	if err := a.svc.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", "hi bob")); err != nil {
		t.Fatal(err)
	}
	got := b.r.next(t)
	if got.From.String() != "alice@a.test/x" || got.To.String() != "bob@b.test" || got.El.ChildText("body", stanza.NSClient) != "hi bob" {
		t.Fatalf("b got %s", got.Bytes())
	}
	sub := stanza.New(stanza.Presence, jid.MustParse("bob@b.test"), jid.MustParse("alice@a.test"), "subscribe", "")
	if err := b.svc.Send(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	got = a.r.next(t)
	if got.Kind != stanza.Presence || got.Type != "subscribe" || got.From.String() != "bob@b.test" {
		t.Fatalf("a got %s", got.Bytes())
	}
	sub = stanza.New(stanza.Presence, jid.MustParse("alice@a.test"), jid.MustParse("bob@b.test"), "subscribed", "")
	a.svc.Send(context.Background(), sub)
	if got = b.r.next(t); got.Type != "subscribed" {
		t.Fatalf("b got %s", got.Bytes())
	}
	b.svc.Send(context.Background(), msg(t, "bob@b.test/y", "alice@a.test", "hi alice"))
	if got = a.r.next(t); got.El.ChildText("body", stanza.NSClient) != "hi alice" {
		t.Fatalf("a got %s", got.Bytes())
	}
}

// TestCertificateNotValid: b's certificate does not chain to a's roots.
// With SecureAuth a never sends b anything (the stanza bounces with
// remote-server-not-found, RFC 6120 §10.4.3) and b's dialback to a is
// refused. Without it, a still authenticates to b with SASL EXTERNAL (b
// trusts a's certificate), and b to a with dialback (XEP-0220); the
// answer comes back on the same stream (XEP-0288).
func TestCertificateNotValid(t *testing.T) {
	tests := []struct {
		secure   bool
		aFirst   bool   // a sends first, else b
		dir      string // the direction of a's link with b, from a
		wantAuth string // "": refused
	}{
		{true, true, "out", ""},
		{true, false, "in", ""},
		{false, true, "out", AuthExternal},
		{false, false, "in", AuthDialback},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			ca, other := xmpptest.NewCA(t, "test CA"), xmpptest.NewCA(t, "test CA")
			la, lb := listen(t), listen(t)
			routes := map[string]string{"a.test": la.Addr().String(), "b.test": lb.Addr().String()}
			events := make(chan Event, 10)
			a := start(t, "a.test", la, ca.Issue(t, "a.test"), ca.Pool, routes, func(o *Options) {
				o.SecureAuth = tc.secure
				o.OnEvent = func(e Event) { events <- e }
			})
			b := start(t, "b.test", lb, other.Issue(t, "b.test"), ca.Pool, routes)
			from, to := a, b
			m1, m2 := msg(t, "alice@a.test/x", "bob@b.test", "one"), msg(t, "bob@b.test/y", "alice@a.test/x", "two")
			if !tc.aFirst {
				from, to, m1, m2 = b, a, m2, m1
			}
			from.svc.Send(context.Background(), m1)
			if tc.wantAuth == "" {
				if got := from.r.next(t); got.Type != "error" || !strings.Contains(string(got.Bytes()), "remote-server-not-found") || got.To.String() != m1.From.String() {
					t.Fatalf("bounce: %s", got.Bytes())
				}
				to.r.none(t, to.svc.domain)
				return
			}
			body := func(st *stanza.Stanza) string { return st.El.ChildText("body", stanza.NSClient) }
			if got := to.r.next(t); body(got) != body(m1) {
				t.Fatalf("%s got %s", to.svc.domain, got.Bytes())
			}
			to.svc.Send(context.Background(), m2)
			if got := from.r.next(t); body(got) != body(m2) {
				t.Fatalf("%s got %s", from.svc.domain, got.Bytes())
			}
			// One link, used both ways: a single authentication event.
			if e := <-events; e.Domain != "b.test" || e.Refused || e.Direction != tc.dir || e.Auth != tc.wantAuth {
				t.Fatalf("event %+v, want %s %s", e, tc.dir, tc.wantAuth)
			}
			select {
			case e := <-events:
				t.Fatalf("second link: %+v", e)
			default:
			}
		})
	}
}

// openDialback opens a stream to p as domain claimed without a client
// certificate, so only dialback is offered; it returns the stream id.
func openDialback(t *testing.T, p *peer, ca *xmpptest.CA, claimed string) (*stream, string) {
	t.Helper()
	c, err := net.Dial("tcp", p.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	st := newStream(c, xmlstream.Limits{})
	st.header(claimed, p.svc.domain, "")
	if _, err := st.readHeader(); err != nil {
		t.Fatal(err)
	}
	st.next()
	st.write([]byte("<starttls xmlns='" + nsTLS + "'/>"))
	if el, err := st.next(); err != nil || el.Name != "proceed" {
		t.Fatal("no proceed", err)
	}
	tc := tls.Client(c, &tls.Config{ServerName: p.svc.domain, RootCAs: ca.Pool})
	st.restart(tc)
	st.header(claimed, p.svc.domain, "")
	h, err := st.readHeader()
	if err != nil {
		t.Fatal(err)
	}
	feats, err := st.next()
	if err != nil {
		t.Fatal(err)
	}
	if hasMechanism(feats, "EXTERNAL") || feats.Child("dialback", nsDialbackFeat) == nil {
		t.Fatalf("features without a certificate: %s", feats)
	}
	return st, h.Get("id")
}

func sendKey(st *stream, claimed, to, key string) {
	res := xmlstream.NewText("result", nsDialback, key)
	res.Set("from", claimed)
	res.Set("to", to)
	st.writeEl(res)
}

// rawDialback sends the key and returns the answer's type.
func rawDialback(t *testing.T, p *peer, ca *xmpptest.CA, key func(id string) string, claimed string) (*stream, string) {
	t.Helper()
	st, id := openDialback(t, p, ca, claimed)
	sendKey(st, claimed, p.svc.domain, key(id))
	el, err := st.next()
	if err != nil {
		t.Fatal(err)
	}
	return st, el.Get("type")
}

// TestDialback: b verifies a key with a's authoritative server (db:verify);
// the right key authenticates a.test, a wrong one is refused, and a stanza
// from a domain not authenticated on the stream gets <invalid-from/>.
func TestDialback(t *testing.T) {
	a, b, ca := pair(t)
	_, typ := rawDialback(t, b, ca, func(string) string { return "0123456789abcdef" }, "a.test")
	if typ != "invalid" {
		t.Fatalf("wrong key: %s", typ)
	}
	st, typ := rawDialback(t, b, ca, func(id string) string { return DialbackKey(a.secret, "b.test", "a.test", id) }, "a.test")
	if typ != "valid" {
		t.Fatalf("right key: %s", typ)
	}
	sendMessage(t, st, "alice@a.test/x", "bob@b.test", "via dialback")
	if got := b.r.next(t); got.El.ChildText("body", stanza.NSClient) != "via dialback" {
		t.Fatalf("b got %s", got.Bytes())
	}
	// A domain it did not authenticate (RFC 6120 §4.9.3.9).
	sendMessage(t, st, "mallory@c.test/x", "bob@b.test", "spoofed")
	wantStreamError(t, st, "invalid-from", "spoofed from")
	b.r.none(t, "spoofed from")
}

// TestLinkCutRequeued: a link cut mid-conversation comes back for the next
// stanzas, and a domain that cannot be reached bounces what waited.
func TestLinkCutRequeued(t *testing.T) {
	a, b, _ := pair(t)
	a.svc.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", "one"))
	b.r.next(t)
	a.svc.mu.Lock()
	old := a.svc.links["b.test"]
	a.svc.mu.Unlock()
	// Cut every connection b holds, as a network failure would.
	b.svc.mu.Lock()
	for c := range b.svc.conns {
		c.Close()
	}
	b.svc.mu.Unlock()
	// a notices: the link goes (or is replaced by one resending what b
	// had not acknowledged, XEP-0198), and what a sends next gets through.
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.svc.mu.Lock()
		cur := a.svc.links["b.test"]
		a.svc.mu.Unlock()
		if cur != old {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("cut not noticed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	a.svc.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", "two"))
	for {
		got := b.r.next(t)
		body := got.El.ChildText("body", stanza.NSClient)
		if body == "two" {
			break
		}
		if body != "one" { // "one" again: resent, its ack was cut off
			t.Fatalf("after reconnect: %s", got.Bytes())
		}
	}
	// b goes away: queued stanzas bounce, none is lost silently.
	b.ln.Close()
	b.svc.Close()
	waitNoLinks(t, a)
	bounced := 3
	for range 3 {
		// An error here is bounced by the router (router.reject).
		if err := a.svc.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", "three")); err != nil {
			bounced--
		}
	}
	for range bounced {
		got := a.r.next(t)
		if got.Type != "error" || !strings.Contains(string(got.Bytes()), "remote-server") {
			t.Fatalf("bounce: %s", got.Bytes())
		}
	}
}

func TestSecretPersisted(t *testing.T) {
	p := filepath.Join(t.TempDir(), "dialback.secret")
	s1, err := LoadOrCreateSecret(p)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := LoadOrCreateSecret(p)
	if string(s1) != string(s2) || len(s1) != 32 {
		t.Fatal("secret not stable")
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
}

func TestPolicy(t *testing.T) {
	s := New(Options{Mode: ModeAllowlist, Allow: []string{"ok.test"}})
	if !s.Allowed("ok.test") || s.Allowed("other.test") {
		t.Fatal("allowlist")
	}
	s = New(Options{Mode: ModeOpen, Deny: []string{"bad.test"}})
	if s.Allowed("bad.test") || !s.Allowed("other.test") {
		t.Fatal("open")
	}
	if New(Options{}).Allowed("x.test") {
		t.Fatal("off")
	}
	err := s.Send(context.Background(), msg(t, "a@a.test/x", "b@bad.test", "x"))
	if !strings.Contains(err.Error(), "remote-server-not-found") {
		t.Fatal(err)
	}
}

// waitNoLinks waits until p noticed that its links were cut.
func waitNoLinks(t *testing.T, p *peer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.svc.mu.Lock()
		n := len(p.svc.links)
		p.svc.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("link not noticed as cut")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// authenticatedStream is a dialback-authenticated stream from a.test to b.
func authenticatedStream(t *testing.T, a, b *peer, ca *xmpptest.CA) *stream {
	t.Helper()
	st, typ := rawDialback(t, b, ca, func(id string) string { return DialbackKey(a.secret, "b.test", "a.test", id) }, "a.test")
	if typ != "valid" {
		t.Fatalf("dialback: %s", typ)
	}
	return st
}

// TestBadInputRefused: an oversized stanza and a flood from one domain
// close the stream with policy-violation (RFC 6120 §4.9.3.14).
func TestBadInputRefused(t *testing.T) {
	a, b, ca := pair(t)
	st := authenticatedStream(t, a, b, ca)
	big := msg(t, "alice@a.test/x", "bob@b.test", strings.Repeat("x", xmlstream.DefaultMaxStanza+1))
	go st.writeEl(renamespace(big.El, stanza.NSClient, stanza.NSServer))
	wantStreamError(t, st, "policy-violation", "oversized")

	b.svc.mu.Lock()
	b.svc.o.Rate, b.svc.o.Burst = 0.001, 3
	b.svc.mu.Unlock()
	st = authenticatedStream(t, a, b, ca)
	for i := range 4 {
		sendMessage(t, st, "alice@a.test/x", "bob@b.test", strconv.Itoa(i))
	}
	wantStreamError(t, st, "policy-violation", "flood")
	for range 3 { // the burst got through, the rest did not
		b.r.next(t)
	}
	b.r.none(t, "beyond the burst")
}

// TestNoSTARTTLSRefused: a stream that skips STARTTLS gets not-authorized.
func TestNoSTARTTLSRefused(t *testing.T) {
	_, b, _ := pair(t)
	c, err := net.Dial("tcp", b.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	st := newStream(c, xmlstream.Limits{})
	st.header("a.test", "b.test", "")
	st.readHeader()
	st.next()
	st.writeEl(xmlstream.NewText("result", nsDialback, "00"))
	wantStreamError(t, st, "not-authorized", "without TLS")
}

// TestAcks: the peer acknowledges what it handled (XEP-0198 on the link),
// and a link that dies hands what was not acknowledged, first, to the next.
func TestAcks(t *testing.T) {
	a, b, _ := pair(t)
	for i := range 3 {
		a.svc.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", strconv.Itoa(i)))
	}
	for range 3 {
		b.r.next(t)
	}
	a.svc.mu.Lock()
	l := a.svc.links["b.test"]
	a.svc.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		acked, pending := l.acked, len(l.unacked)
		l.mu.Unlock()
		if acked == 3 && pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("acked %d, %d pending", acked, pending)
		}
		time.Sleep(5 * time.Millisecond)
	}

	s := func(body string) *stanza.Stanza { return msg(t, "alice@a.test/x", "bob@b.test", body) }
	k := &link{unacked: []*stanza.Stanza{s("u1"), s("u2"), s("u3")}, acked: ^uint32(0)} // h wraps (§4)
	k.ack(0)                                                                            // one more than 2^32-1
	k.queue = []*stanza.Stanza{s("q1")}
	var bodies []string
	for _, st := range k.take(true) {
		bodies = append(bodies, st.El.ChildText("body", stanza.NSClient))
	}
	if strings.Join(bodies, ",") != "u2,u3,q1" {
		t.Fatalf("carried %v", bodies)
	}
}

// TestResendGivesUp: a peer that accepts stanzas and drops the link
// without acknowledging them gets them again on new links, then they
// bounce with remote-server-timeout instead of circling for ever.
func TestResendGivesUp(t *testing.T) {
	ca := xmpptest.NewCA(t, "test CA")
	la, lb := listen(t), listen(t)
	routes := map[string]string{"b.test": lb.Addr().String()}
	a := start(t, "a.test", la, ca.Issue(t, "a.test"), ca.Pool, routes)
	cert := ca.Issue(t, "b.test")
	conns := make(chan int, 10)
	go func() { // a fake b.test: says every dialback key is valid, never acks
		for n := 1; ; n++ {
			c, err := lb.Accept()
			if err != nil {
				return
			}
			conns <- n
			st := acceptTLS(c, cert, "b.test", "a.test")
			st.write([]byte("<stream:features><dialback xmlns='" + nsDialbackFeat + "'/><sm xmlns='" + nsSM + "'/></stream:features>"))
			st.next() // db:result
			st.writeEl(xmlstream.New("result", nsDialback, "from", "b.test", "to", "a.test", "type", "valid"))
			for {
				el, err := st.next()
				if err != nil || stanza.KindOf(el) != 0 {
					break
				}
			}
			c.Close() // a stanza arrived: drop it and the link
		}
	}()
	t.Cleanup(func() { lb.Close() })
	a.svc.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", "lost?"))
	got := a.r.next(t)
	if got.Type != "error" || !strings.Contains(string(got.Bytes()), "remote-server-timeout") {
		t.Fatalf("bounce: %s", got.Bytes())
	}
	if n := len(conns); n != maxTries+1 {
		t.Fatalf("%d links, want %d", n, maxTries+1)
	}
}

// TestBackoff: after a failed attempt, stanzas for that domain bounce at
// once until the backoff ends, then a new attempt is made.
func TestBackoff(t *testing.T) {
	var dials atomic.Int32
	r := &fakeRouter{got: make(chan *stanza.Stanza, 10)}
	s := New(Options{Domain: jid.MustParse("a.test"), Mode: ModeOpen, Routes: map[string]string{"b.test": "127.0.0.1:1"},
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return nil, &net.OpError{Op: "dial", Net: network, Err: os.ErrNotExist}
		}})
	s.SetRouter(r)
	defer s.Close()
	if err := s.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", "1")); err != nil {
		t.Fatal(err)
	}
	if got := r.next(t); !strings.Contains(string(got.Bytes()), "remote-server-not-found") {
		t.Fatalf("bounce: %s", got.Bytes())
	}
	err := s.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", "2"))
	if err == nil || !strings.Contains(err.Error(), "remote-server-not-found") || dials.Load() != 1 {
		t.Fatalf("during backoff: %v, %d dials", err, dials.Load())
	}
	s.mu.Lock()
	s.backoff["b.test"].until = time.Now().Add(-time.Second) // the backoff is over
	s.mu.Unlock()
	s.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", "3"))
	r.next(t)
	if dials.Load() != 2 {
		t.Fatalf("%d dials after the backoff", dials.Load())
	}
}

// TestImpostorRefused: a server holding a valid certificate for c.test
// that claims to be a.test gets no SASL EXTERNAL (the certificate does
// not name a.test), and its dialback key fails with a.test's real server:
// refused, nothing delivered, its stanza bounced.
func TestImpostorRefused(t *testing.T) {
	_, b, ca := pair(t)
	imp := start(t, "a.test", listen(t), ca.Issue(t, "c.test"), ca.Pool, map[string]string{"b.test": b.ln.Addr().String()})
	imp.svc.Send(context.Background(), msg(t, "alice@a.test/x", "bob@b.test", "it's me, alice"))
	got := imp.r.next(t)
	if got.Type != "error" || !strings.Contains(string(got.Bytes()), "remote-server-not-found") {
		t.Fatalf("impostor got %s", got.Bytes())
	}
	select {
	case st := <-b.r.got:
		t.Fatalf("b routed %s", st.Bytes())
	default:
	}
}

// TestCloseDuringVerification: Close ends a dialback verification that
// waits for an authoritative server which never answers (the timeout is
// an hour here: only Close can end it).
func TestCloseDuringVerification(t *testing.T) {
	ca := xmpptest.NewCA(t, "test CA")
	la, lb := listen(t), listen(t)
	b := start(t, "b.test", lb, ca.Issue(t, "b.test"), ca.Pool, map[string]string{"a.test": la.Addr().String()})
	b.svc.mu.Lock()
	b.svc.o.Timeout = time.Hour
	b.svc.mu.Unlock()
	cert := ca.Issue(t, "a.test")
	asked := make(chan struct{})
	go func() { // a silent a.test: takes db:verify and never answers
		c, err := la.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		st := acceptTLS(c, cert, "a.test", "b.test")
		st.write([]byte("<stream:features/>"))
		st.next() // db:verify
		close(asked)
		st.next() // until b goes away
	}()
	st, _ := openDialback(t, b, ca, "a.test")
	sendKey(st, "a.test", "b.test", "00")
	<-asked
	b.ln.Close()
	b.svc.Close() // returns: the test would hang otherwise
}
