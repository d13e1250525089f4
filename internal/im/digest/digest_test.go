package digest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/clock"
	"parley/internal/daemontest"
	"parley/internal/dataform"
	"parley/internal/im/adhoc"
	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/store/sqlite"
)

// smtpServer is Debian's aiosmtpd started by the test (testdata/smtpd.py):
// STARTTLS and AUTH PLAIN required, messages written to dir.
type smtpServer struct {
	addr   string
	dir    string
	roots  *x509.CertPool
	caFile string // the server's self-signed certificate, PEM
}

const smtpUser, smtpPassword = "parley", "s3cret"

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import aiosmtpd").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-aiosmtpd is needed under CI: %v", err)
		}
		t.Skip("python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)")
	}
	dir := t.TempDir()
	daemontest.WriteCert(t, dir)
	certFile := filepath.Join(dir, "cert.pem")
	pemCert, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemCert)
	out := filepath.Join(dir, "mail")
	if err := os.Mkdir(out, 0o700); err != nil {
		t.Fatal(err)
	}
	addr := daemontest.FreeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	daemontest.Start(t, &daemontest.Daemon{Path: "/usr/bin/python3", Addr: addr, Signal: os.Kill,
		Args: []string{"testdata/smtpd.py", port, certFile, filepath.Join(dir, "key.pem"), smtpUser, smtpPassword, out}})
	return &smtpServer{addr: addr, dir: out, roots: roots, caFile: certFile}
}

// mails are the messages the server accepted, in order.
func (s *smtpServer) mails(t *testing.T) []*mail.Message {
	t.Helper()
	var out []*mail.Message
	for i := 1; ; i++ {
		b, err := os.ReadFile(filepath.Join(s.dir, strconv.Itoa(i)+".eml"))
		if os.IsNotExist(err) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("mail %d unreadable: %v", i, err)
		}
		out = append(out, m)
	}
}

// refuse makes the server answer DATA with 451 while on.
func (s *smtpServer) refuse(t *testing.T, on bool) {
	p := filepath.Join(s.dir, "refuse")
	if on {
		os.WriteFile(p, nil, 0o600)
	} else {
		os.Remove(p)
	}
}

type fixture struct {
	r     *router.Router
	m     *Module
	st    *sqlite.Store
	clock *clock.Fake
	smtp  *smtpServer
	romeo *imtest.Session
}

func setup(t *testing.T, includeBody bool) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{smtp: startSMTP(t), clock: clock.NewFake(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	for _, u := range []string{"alice", "romeo"} {
		if err := st.CreateUser(ctx, store.User{Username: u}); err != nil {
			t.Fatal(err)
		}
	}
	f.r = router.New(jid.MustParse("example.com"), imtest.Accounts{"alice": true, "romeo": true}, nil)
	f.r.SetOffline(offline{})
	f.m = New(Options{Store: st, From: "chat@example.com", Delay: time.Hour, IncludeBody: includeBody, Clock: f.clock,
		Mailer: &SMTP{Addr: f.smtp.addr, Security: StartTLS, TLS: &tls.Config{RootCAs: f.smtp.roots},
			Username: smtpUser, Password: smtpPassword, Hello: "example.com"},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	f.m.Register(f.r)
	t.Cleanup(func() { f.m.Close() })
	f.romeo = imtest.NewSession(t, "romeo@example.com/orchard")
	f.r.Bind(f.romeo)
	return f
}

type offline struct{}

func (offline) StoreOffline(context.Context, *stanza.Stanza) error { return nil }

// send routes a message from romeo to alice, who has no session.
func (f *fixture) send(t *testing.T, payload string) {
	t.Helper()
	f.r.Route(context.Background(), imtest.Parse(t, "<message type='chat' from='romeo@example.com/orchard' to='alice@example.com'>"+payload+"</message>"))
}

// optIn runs the settings command as alice with address.
func (f *fixture) optIn(t *testing.T, address string) (adhoc.Response, error) {
	t.Helper()
	form := dataform.New(dataform.TypeSubmit, NodeSettings, dataform.NewField(FieldAddress, dataform.TextSingle, "", address))
	return f.m.command().Run(context.Background(), &adhoc.Session{}, adhoc.Request{
		From: jid.MustParse("alice@example.com/phone"), Action: adhoc.Complete, Form: form})
}

// TestDigestMailed: messages alice misses while offline reach her mailbox
// as one digest through a real SMTP server (STARTTLS, AUTH), once the
// window ends; chat states are not counted.
func TestDigestMailed(t *testing.T) {
	f := setup(t, true)
	if _, err := f.optIn(t, "alice@mail.example"); err != nil {
		t.Fatal(err)
	}
	f.send(t, "<body>are you there?</body>")
	f.send(t, "<active xmlns='http://jabber.org/protocol/chatstates'/>")
	f.clock.Advance(30 * time.Minute)
	f.send(t, "<body>Grüße — call me</body>")
	if got := f.smtp.mails(t); len(got) != 0 {
		t.Fatalf("mailed before the window ended: %d", len(got))
	}
	f.clock.Advance(30 * time.Minute)
	got := f.smtp.mails(t)
	if len(got) != 1 {
		t.Fatalf("got %d mails, want 1", len(got))
	}
	m := got[0]
	if to := m.Header.Get("To"); to != "<alice@mail.example>" {
		t.Errorf("To = %q", to)
	}
	subject, err := new(mimeDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subject != "2 messages waiting for you on example.com" {
		t.Errorf("Subject = %q, %v", subject, err)
	}
	if m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", m.Header.Get("Auto-Submitted"))
	}
	body := decodeQP(t, m.Body)
	for _, want := range []string{"romeo@example.com: 2 messages", "are you there?", "Grüße — call me", "[2026-01-01 09:30 UTC]"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	env, _ := os.ReadFile(filepath.Join(f.smtp.dir, "1.env"))
	if string(env) != "chat@example.com\nalice@mail.example\n" {
		t.Errorf("envelope = %q", env)
	}
}

// TestDigestWithoutBodies: unless the site allows it, a digest says who
// wrote and how often, never what.
func TestDigestWithoutBodies(t *testing.T) {
	f := setup(t, false)
	f.optIn(t, "alice@mail.example")
	f.send(t, "<body>the secret plan</body>")
	f.clock.Advance(time.Hour)
	got := f.smtp.mails(t)
	if len(got) != 1 {
		t.Fatalf("got %d mails, want 1", len(got))
	}
	body := decodeQP(t, got[0].Body)
	if strings.Contains(body, "secret") || !strings.Contains(body, "romeo@example.com: 1 message") {
		t.Errorf("body:\n%s", body)
	}
}

// TestDigestOnlyOptedIn: without an address nobody gets mail, and opting
// out stops it.
func TestDigestOnlyOptedIn(t *testing.T) {
	f := setup(t, false)
	f.send(t, "<body>one</body>")
	f.clock.Advance(time.Hour)
	f.optIn(t, "alice@mail.example")
	f.optIn(t, "")
	f.send(t, "<body>two</body>")
	f.clock.Advance(time.Hour)
	if got := f.smtp.mails(t); len(got) != 0 {
		t.Fatalf("got %d mails, want none", len(got))
	}
}

// TestDigestCancelledByReturn: a client that comes online (or is
// connected when the window ends) gets the messages itself: no mail.
func TestDigestCancelledByReturn(t *testing.T) {
	f := setup(t, false)
	f.optIn(t, "alice@mail.example")
	f.send(t, "<body>one</body>")
	alice := imtest.Bind(t, f.r, "alice@example.com/phone")
	f.r.Route(context.Background(), imtest.Parse(t, "<presence from='alice@example.com/phone'/>"))
	f.r.Unbind(context.Background(), alice)
	f.clock.Advance(time.Hour)
	if got := f.smtp.mails(t); len(got) != 0 {
		t.Fatalf("mailed %d after alice came online", len(got))
	}

	f.send(t, "<body>two</body>")
	f.r.Bind(alice) // connected when the window ends (resumed: no presence)
	f.clock.Advance(time.Hour)
	if got := f.smtp.mails(t); len(got) != 0 {
		t.Fatalf("mailed %d while alice is connected", len(got))
	}
}

// TestDigestRetried: a temporary refusal keeps the digest, which goes out
// at the next window with what came meanwhile.
func TestDigestRetried(t *testing.T) {
	f := setup(t, false)
	f.optIn(t, "alice@mail.example")
	f.smtp.refuse(t, true)
	f.send(t, "<body>one</body>")
	f.clock.Advance(time.Hour)
	f.send(t, "<body>two</body>")
	f.smtp.refuse(t, false)
	f.clock.Advance(time.Hour)
	got := f.smtp.mails(t)
	if len(got) != 1 {
		t.Fatalf("got %d mails, want 1", len(got))
	}
	if body := decodeQP(t, got[0].Body); !strings.Contains(body, "romeo@example.com: 2 messages") {
		t.Errorf("body:\n%s", body)
	}
}

// TestSettingsCommand: the form shows the address, and a bad one is
// refused with bad-request and a readable reason.
func TestSettingsCommand(t *testing.T) {
	f := setup(t, false)
	for _, bad := range []string{"not an address", "Alice <alice@mail.example>", "a@x, b@y", strings.Repeat("a", 250) + "@mail.example"} {
		if _, err := f.optIn(t, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := f.optIn(t, " alice@mail.example "); err != nil {
		t.Fatal(err)
	}
	resp, err := f.m.command().Run(context.Background(), &adhoc.Session{}, adhoc.Request{
		From: jid.MustParse("alice@example.com/phone"), Action: adhoc.Execute})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := resp.Form.Value(FieldAddress); v != "alice@mail.example" {
		t.Errorf("form shows %q", v)
	}
}

type mimeDecoder = mime.WordDecoder

// decodeQP reads a quoted-printable body.
func decodeQP(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(r))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
