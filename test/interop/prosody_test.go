package interop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/s2s"
	"parley/internal/store"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// prosodyBin is Debian's Prosody (package prosody, 0.12).
const prosodyBin = "/usr/bin/prosody"

func requireProsody(t *testing.T) {
	require(t, "prosody", func() error {
		_, err := os.Stat(prosodyBin)
		return err
	})
}

// testCA is a certificate authority made by the test that keeps its
// files in dir: its bundle and the certificates it issues.
type testCA struct {
	*xmpptest.CA
	dir string
	n   int
}

func newTestCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	ca := &testCA{CA: xmpptest.NewCA(t, name), dir: dir}
	ca.WriteCert(t, ca.bundle())
	return ca
}

func (ca *testCA) bundle() string { return filepath.Join(ca.dir, ca.Cert.Subject.CommonName+".pem") }

// issue writes a certificate for domain signed by ca and its key, and
// returns their paths.
func (ca *testCA) issue(t *testing.T, domain string) (certFile, keyFile string) {
	t.Helper()
	ca.n++
	certFile = filepath.Join(ca.dir, domain+"."+strconv.Itoa(ca.n)+".crt")
	keyFile = filepath.Join(ca.dir, domain+"."+strconv.Itoa(ca.n)+".key")
	ca.WriteIssued(t, domain, certFile, keyFile)
	return certFile, keyFile
}

// freePort returns a loopback port that was free a moment ago (Prosody
// takes its ports from its configuration, not from the kernel).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// prosodyRoutes is a Prosody module written by the test: static s2s
// routes (domain -> port on 127.0.0.1) in place of DNS, the counterpart of
// parley's [s2s.routes]. Prosody 0.12's own resolver reads neither
// /etc/hosts nor any route option, and mod_s2s builds its resolver with
// net.resolvers.service.new at each new link, so the module replaces that
// function for the routed domains. No DNS query leaves the process.
const prosodyRoutes = `
local service = require "net.resolvers.service";
local manual = require "net.resolvers.manual";
local routes = module:get_option("test_s2s_routes", {});
local lookup = service.new;
service.new = function (domain, svc, proto, extra)
	local port = routes[domain];
	if port == nil then
		return lookup(domain, svc, proto, extra);
	end
	if svc ~= "xmpp-server" then -- no direct TLS (_xmpps-server) route
		return manual.new({}, proto, extra);
	end
	return manual.new({ { "tcp4", "127.0.0.1", port, extra } }, proto, extra);
end
function module.unload() service.new = lookup; end
`

// prosody is a Prosody started by the test with its own configuration,
// data, log and ports (never the system service).
type prosody struct {
	domain string
	c2s    string // host:port
	s2s    int
	log    string
}

// prosodyOptions configure startProsody.
type prosodyOptions struct {
	domain     string
	cert, key  string
	ca         string         // the CA bundle peers' certificates are checked against
	secureAuth bool           // s2s_secure_auth: only authenticated certificates
	bidi       bool           // mod_s2s_bidi: XEP-0288
	routes     map[string]int // static s2s routes: domain -> port on 127.0.0.1
	s2sPort    int
	users      map[string]string
	extra      string // more global options
}

// startProsody writes a configuration and runs Prosody in the foreground
// until the test ends.
func startProsody(t *testing.T, o prosodyOptions) *prosody {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	plugins := filepath.Join(dir, "plugins")
	for _, d := range []string{data, plugins} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(plugins, "mod_test_s2s_routes.lua"), []byte(prosodyRoutes), 0o600); err != nil {
		t.Fatal(err)
	}
	// Accounts in Prosody's internal_plain storage
	// (data/<host, %-encoded>/accounts/<user>.dat).
	accounts := filepath.Join(data, strings.ReplaceAll(o.domain, ".", "%2e"), "accounts")
	if err := os.MkdirAll(accounts, 0o700); err != nil {
		t.Fatal(err)
	}
	for u, pw := range o.users {
		if err := os.WriteFile(filepath.Join(accounts, u+".dat"), []byte("return { [\"password\"] = "+luaString(pw)+"; };\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	modules := `"tls", "saslauth", "dialback", "roster", "disco", "ping", "version", "test_s2s_routes"`
	if o.bidi {
		modules += `, "s2s_bidi"`
	}
	var routes []string
	for d, p := range o.routes {
		routes = append(routes, "["+luaString(d)+"] = "+strconv.Itoa(p))
	}
	p := &prosody{domain: o.domain, c2s: "127.0.0.1:" + strconv.Itoa(freePort(t)), s2s: o.s2sPort, log: filepath.Join(dir, "prosody.log")}
	_, c2sPort := hostPort(t, p.c2s)
	cfg := fmt.Sprintf(`-- written by parley's test/interop
run_as_root = true
pidfile = %[1]s
data_path = %[2]s
plugin_paths = { %[3]s }
log = { { levels = { min = "debug" }, to = "file", filename = %[4]s } }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { %[5]s }
s2s_ports = { %[6]d }
c2s_direct_tls_ports = { }
s2s_direct_tls_ports = { }
http_ports = { }
https_ports = { }
modules_enabled = { %[14]s }
modules_disabled = { "offline", "posix" }
authentication = "internal_plain"
storage = "internal"
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = %[7]t
ssl = { certificate = %[8]s, key = %[9]s, cafile = %[10]s }
test_s2s_routes = { %[11]s }
%[12]s
VirtualHost %[13]s
`, luaString(filepath.Join(dir, "prosody.pid")), luaString(data), luaString(plugins), luaString(p.log),
		c2sPort, o.s2sPort, o.secureAuth, luaString(o.cert), luaString(o.key), luaString(o.ca),
		strings.Join(routes, ", "), o.extra, luaString(o.domain), modules)
	cfgFile := filepath.Join(dir, "prosody.cfg.lua")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(prosodyBin, "-F", "--config", cfgFile)
	cmd.Dir = dir
	out, err := os.Create(filepath.Join(dir, "prosody.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		out.Close()
		if t.Failed() {
			for _, f := range []string{out.Name(), p.log} {
				b, _ := os.ReadFile(f)
				t.Logf("%s:\n%s", f, b)
			}
		}
	})
	// Ready when both listeners accept.
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range []string{p.c2s, "127.0.0.1:" + strconv.Itoa(o.s2sPort)} {
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case err := <-exited:
				b, _ := os.ReadFile(out.Name())
				cannotStart(t, fmt.Sprintf("prosody exited (%v):\n%s", err, b))
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				cannotStart(t, fmt.Sprintf("prosody does not listen on %s: %v", addr, err))
			}
		}
	}
	return p
}

// cannotStart ends a test whose Prosody did not come up: a failure under
// CI=true (CI installs a working Prosody), a skip elsewhere, as a missing
// Prosody is.
func cannotStart(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true and " + msg)
	}
	t.Skip("SKIP: " + msg)
}

// logged says whether Prosody's log has a line containing all of parts.
func (p *prosody) logged(parts ...string) bool {
	f, err := os.Open(p.log)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64<<10), 1<<20)
lines:
	for s.Scan() {
		for _, part := range parts {
			if !strings.Contains(s.Text(), part) {
				continue lines
			}
		}
		return true
	}
	return false
}

func luaString(s string) string { return strconv.Quote(s) }

// parleyDomain and prosodyDomain are the two test domains; both resolve
// to loopback only through the static routes of each server.
const (
	parleyDomain  = "parley.test"
	prosodyDomain = "prosody.test"
)

// federation is a parley and a Prosody that federate, one user on each.
type federation struct {
	parley  *testserver.Server
	prosody *prosody
	alice   *xmpptest.Client // alice@parley.test
	bob     *xmpptest.Client // bob@prosody.test
}

// startFederation starts parley (certificate from ca, trusting ca;
// configure, if given, changes its [s2s] further) and Prosody with o's
// certificate, CA bundle and options.
func startFederation(t *testing.T, ca *testCA, o prosodyOptions, configure ...func(*config.S2S)) *federation {
	t.Helper()
	requireProsody(t)
	cert, key := ca.issue(t, parleyDomain)
	prosodyS2S := freePort(t)
	srv := testserver.Start(t, func(c *config.Config) {
		c.Domain = parleyDomain
		c.Cert, c.Key = cert, key
		c.Listen.S2S = "127.0.0.1:0"
		c.S2S = config.S2S{Mode: config.S2SAllowlist, Allow: []string{prosodyDomain}, CA: ca.bundle(),
			Routes: map[string]string{prosodyDomain: "127.0.0.1:" + strconv.Itoa(prosodyS2S)}}
		for _, f := range configure {
			f(&c.S2S)
		}
	})
	_, parleyS2S := hostPort(t, srv.Addr("s2s").String())
	port, _ := strconv.Atoi(parleyS2S)
	o.domain, o.routes, o.s2sPort = prosodyDomain, map[string]int{parleyDomain: port}, prosodyS2S
	o.users = map[string]string{"bob": password}
	p := startProsody(t, o)
	srv.AddUser(t, "alice", password)
	f := &federation{parley: srv, prosody: p}
	f.alice = xmpptest.Online(t, srv.C2S(), xmpptest.Options{Domain: parleyDomain, User: "alice", Password: password, Resource: "a"})
	f.bob = xmpptest.Login(t, p.c2s, xmpptest.Options{Domain: prosodyDomain, User: "bob", Password: password, Resource: "b",
		Mechanism: xmpptest.ScramSHA1})
	// Prosody hands subscription requests only to resources that fetched
	// the roster (RFC 6121 §2.1.6 "interested resources").
	for _, c := range []*xmpptest.Client{f.alice, f.bob} {
		if _, err := c.IQ(10*time.Second, "get", "", "<query xmlns='jabber:iq:roster'/>"); err != nil {
			t.Fatalf("%s: roster: %v", c.JID, err)
		}
	}
	xmpptest.MustSend(t, f.bob, "<presence/>")
	return f
}

// exchange runs chat, presence subscriptions and IQs both ways.
func (f *federation) exchange(t *testing.T) {
	t.Helper()
	const wait = 20 * time.Second
	alice, bob := f.alice, f.bob
	aliceFull, bobFull := "alice@"+parleyDomain+"/a", "bob@"+prosodyDomain+"/b"

	xmpptest.MustSend(t, alice, "<message to='"+bobFull+"' type='chat' id='m1'><body>hi bob</body></message>")
	xmpptest.MustExpect(t, bob, wait, "alice's message", func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == aliceFull && el.ChildText("body", "jabber:client") == "hi bob"
	})
	xmpptest.MustSend(t, bob, "<message to='"+aliceFull+"' type='chat' id='m2'><body>hi alice</body></message>")
	xmpptest.MustExpect(t, alice, wait, "bob's message", func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Get("from") == bobFull && el.ChildText("body", "jabber:client") == "hi alice"
	})

	// RFC 6121 §3: a subscription each way.
	subscribe := func(from, to *xmpptest.Client, fromBare, toBare string) {
		t.Helper()
		xmpptest.MustSend(t, from, "<presence to='"+toBare+"' type='subscribe'/>")
		xmpptest.MustExpect(t, to, wait, "subscribe from "+fromBare, func(el *xmlstream.Element) bool {
			return el.Name == "presence" && el.Get("type") == "subscribe" && el.Get("from") == fromBare
		})
		xmpptest.MustSend(t, to, "<presence to='"+fromBare+"' type='subscribed'/>")
		xmpptest.MustExpect(t, from, wait, "subscribed from "+toBare, func(el *xmlstream.Element) bool {
			return el.Name == "presence" && el.Get("type") == "subscribed" && el.Get("from") == toBare
		})
	}
	subscribe(alice, bob, "alice@"+parleyDomain, "bob@"+prosodyDomain)
	subscribe(bob, alice, "bob@"+prosodyDomain, "alice@"+parleyDomain)
	// Both subscribed: a new presence of each reaches the other.
	xmpptest.MustSend(t, bob, "<presence><status>bob here</status></presence>")
	xmpptest.MustExpect(t, alice, wait, "bob's presence", func(el *xmlstream.Element) bool {
		return el.Name == "presence" && el.Get("from") == bobFull && el.Get("type") == "" &&
			el.ChildText("status", "jabber:client") == "bob here"
	})
	xmpptest.MustSend(t, alice, "<presence><status>alice here</status></presence>")
	xmpptest.MustExpect(t, bob, wait, "alice's presence", func(el *xmlstream.Element) bool {
		return el.Name == "presence" && el.Get("from") == aliceFull && el.Get("type") == "" &&
			el.ChildText("status", "jabber:client") == "alice here"
	})

	// IQs each way: XEP-0199 ping and XEP-0092 version of the other server.
	for _, q := range []struct {
		c       *xmpptest.Client
		to, ns  string
		payload string
	}{
		{alice, prosodyDomain, "urn:xmpp:ping", "<ping xmlns='urn:xmpp:ping'/>"},
		{alice, prosodyDomain, "jabber:iq:version", "<query xmlns='jabber:iq:version'/>"},
		{bob, parleyDomain, "urn:xmpp:ping", "<ping xmlns='urn:xmpp:ping'/>"},
		{bob, parleyDomain, "jabber:iq:version", "<query xmlns='jabber:iq:version'/>"},
	} {
		el, err := q.c.IQ(wait, "get", q.to, q.payload)
		if err != nil {
			t.Fatalf("%s: %s to %s: %v", q.c.JID, q.ns, q.to, err)
		}
		if el.Get("type") != "result" || el.Get("from") != q.to {
			t.Fatalf("%s: %s to %s answered %s", q.c.JID, q.ns, q.to, xmlstream.AppendIn(nil, el, "jabber:client"))
		}
		if q.ns == "jabber:iq:version" && el.Child("query", q.ns).ChildText("name", q.ns) == "" {
			t.Fatalf("%s: version of %s has no name", q.c.JID, q.to)
		}
	}
}

// authPaths waits until parley's audit log has recorded a link with
// Prosody's domain in each direction, and checks how each authenticated
// there and in parley's metrics ("" for a direction without a link).
func (f *federation) authPaths(t *testing.T, in, out string) {
	t.Helper()
	want := map[string]string{"in": in, "out": out}
	resp, err := http.Get("http://" + f.parley.Addr("metrics").String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for dir, auth := range want {
		line := `parley_s2s_links_total{auth="` + auth + `",direction="` + dir + `"} `
		if has := strings.Contains(string(metrics), line); has != (auth != "") || strings.Contains(string(metrics), `direction="`+dir+`"} `) != (auth != "") {
			t.Fatalf("metrics, want %s links %q:\n%s", dir, auth, metrics)
		}
	}
	xmpptest.Eventually(t, 20*time.Second, func() error {
		recs, err := audit.Query(context.Background(), f.parley.Store().(store.Audit), store.AuditQuery{Action: audit.ActionFederationLink})
		if err != nil {
			return err
		}
		got := map[string]string{}
		for _, r := range recs {
			if r.Target == prosodyDomain {
				got[r.Details["direction"]] = r.Details["auth"]
			}
		}
		if got["in"] != want["in"] || got["out"] != want["out"] {
			return fmt.Errorf("federation-link auth per direction %v, want %v", got, want)
		}
		return nil
	})
}

// TestProsodyFederationExternal: parley and Prosody trust the same test
// CA and hold certificates for their domains, so each authenticates to
// the other with SASL EXTERNAL (RFC 6120 §6, XEP-0178), and chat,
// subscriptions and IQs cross both ways.
func TestProsodyFederationExternal(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "interop-ca")
	cert, key := ca.issue(t, prosodyDomain)
	f := startFederation(t, ca, prosodyOptions{cert: cert, key: key, ca: ca.bundle(), secureAuth: true})
	f.exchange(t)
	f.authPaths(t, s2s.AuthExternal, s2s.AuthExternal)
	if !f.prosody.logged("Accepting SASL EXTERNAL identity from " + parleyDomain) {
		t.Fatal("Prosody's log does not show parley authenticating with SASL EXTERNAL")
	}
	if !f.prosody.logged("SASL EXTERNAL with " + parleyDomain + " succeeded") {
		t.Fatal("Prosody's log does not show it authenticating to parley with SASL EXTERNAL")
	}
}

// TestProsodyFederationDialback: Prosody's certificate comes from a CA
// parley does not trust, and Prosody (s2s_secure_auth = false) trusts
// only that CA, not parley's: neither side can offer the other SASL
// EXTERNAL, so both directions authenticate with Server Dialback
// (XEP-0220), each server checking the other's key by connecting back
// (db:verify).
func TestProsodyFederationDialback(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "interop-ca")
	other := newTestCA(t, dir, "prosody-own-ca")
	cert, key := other.issue(t, prosodyDomain)
	f := startFederation(t, ca, prosodyOptions{cert: cert, key: key, ca: other.bundle()})
	f.exchange(t)
	f.authPaths(t, s2s.AuthDialback, s2s.AuthDialback)
	if f.prosody.logged("Accepting SASL EXTERNAL") || f.prosody.logged("SASL EXTERNAL with "+parleyDomain+" succeeded") {
		t.Fatal("Prosody's log shows SASL EXTERNAL where only dialback was possible")
	}
}

// TestProsodyFederationBidi: with Prosody's mod_s2s_bidi (XEP-0288), the
// server that connects first asks for a bidirectional stream and the
// other sends its stanzas back on it: parley's audit log shows a single
// authenticated link, in the direction of the first stanza (but see the
// one exception below), and everything still crosses both ways; with
// SASL EXTERNAL (a shared CA)
// and with dialback (Prosody's certificate from a CA parley does not
// trust, as in TestProsodyFederationDialback).
func TestProsodyFederationBidi(t *testing.T) {
	for _, tc := range []struct {
		first         string
		auth          string
		in, out       bool // parley's federation-link records per direction
		prosodyLogged string
	}{
		{"parley", s2s.AuthExternal, false, true, "Requested bidirectional stream"},
		{"prosody", s2s.AuthExternal, true, false, "Requesting bidirectional stream"},
		// Prosody sends its db:verify for parley's key on a stream of its
		// own to parley, which it authenticates (dialback) before using:
		// that stream is up before the bidi one, so Prosody keeps it for
		// its stanzas, and parley sees a link each way.
		{"parley", s2s.AuthDialback, true, true, "Requested bidirectional stream"},
		{"prosody", s2s.AuthDialback, true, false, "Requesting bidirectional stream"},
	} {
		t.Run(tc.first+" first, "+tc.auth, func(t *testing.T) {
			dir := t.TempDir()
			ca := newTestCA(t, dir, "interop-ca")
			o := prosodyOptions{ca: ca.bundle(), secureAuth: true, bidi: true}
			o.cert, o.key = ca.issue(t, prosodyDomain)
			if tc.auth == s2s.AuthDialback {
				other := newTestCA(t, dir, "prosody-own-ca")
				o.cert, o.key = other.issue(t, prosodyDomain)
				o.ca, o.secureAuth = other.bundle(), false
			}
			f := startFederation(t, ca, o)
			from, to, toJID := f.alice, f.bob, "bob@"+prosodyDomain+"/b"
			if tc.first == "prosody" {
				from, to, toJID = f.bob, f.alice, "alice@"+parleyDomain+"/a"
			}
			xmpptest.MustSend(t, from, "<message to='"+toJID+"' type='chat' id='first'><body>first</body></message>")
			xmpptest.MustExpect(t, to, 20*time.Second, "the first message", func(el *xmlstream.Element) bool {
				return el.Name == "message" && el.ChildText("body", "jabber:client") == "first"
			})
			f.exchange(t)
			var in, out string
			if tc.in {
				in = tc.auth
			}
			if tc.out {
				out = tc.auth
			}
			f.authPaths(t, in, out)
			if !f.prosody.logged(tc.prosodyLogged) {
				t.Fatalf("Prosody's log has no %q", tc.prosodyLogged)
			}
		})
	}
}

// TestProsodySecureAuthRefuses: the dialback case with parley's
// [s2s] secure_auth on: parley refuses Prosody both ways, so each side's
// message comes back to its sender as an error and nothing crosses.
func TestProsodySecureAuthRefuses(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "interop-ca")
	other := newTestCA(t, dir, "prosody-own-ca")
	cert, key := other.issue(t, prosodyDomain)
	f := startFederation(t, ca, prosodyOptions{cert: cert, key: key, ca: other.bundle()},
		func(c *config.S2S) { c.SecureAuth = true })
	bounced := func(c *xmpptest.Client, to, id, cond string) {
		t.Helper()
		xmpptest.MustSend(t, c, "<message to='"+to+"' type='chat' id='"+id+"'><body>refused</body></message>")
		el := xmpptest.MustExpect(t, c, 30*time.Second, "the bounce of "+id, func(el *xmlstream.Element) bool {
			return el.Name == "message" && el.Get("id") == id && el.Get("type") == "error"
		})
		if got := xmpptest.StanzaErrorCondition(el); cond != "" && got != cond {
			t.Fatalf("%s bounced with %s, want %s", id, got, cond)
		}
	}
	// RFC 6120 §10.4.3: parley does not authenticate Prosody's server.
	bounced(f.alice, "bob@"+prosodyDomain+"/b", "out", "remote-server-not-found")
	// Prosody's dialback is answered invalid; Prosody picks its own error.
	bounced(f.bob, "alice@"+parleyDomain+"/a", "in", "")
	xmpptest.Eventually(t, 20*time.Second, func() error {
		recs, err := audit.Query(context.Background(), f.parley.Store().(store.Audit), store.AuditQuery{Action: audit.ActionFederationRefused})
		if err != nil {
			return err
		}
		var reasons []string
		for _, r := range recs {
			reasons = append(reasons, r.Details["direction"]+": "+r.Details["reason"])
		}
		if !slices.Contains(reasons, "in: no valid certificate") {
			return fmt.Errorf("refusals %q, want the inbound dialback refused for the certificate", reasons)
		}
		return nil
	})
	for _, c := range []*xmpptest.Client{f.alice, f.bob} {
		if el, err := c.Expect(100*time.Millisecond, func(el *xmlstream.Element) bool {
			return el.Name == "message" && el.ChildText("body", "jabber:client") == "refused" && el.Get("type") != "error"
		}); err == nil {
			t.Fatalf("%s got %s", c.JID, xmlstream.AppendIn(nil, el, "jabber:client"))
		}
	}
}
