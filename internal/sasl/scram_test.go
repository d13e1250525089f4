package sasl

import (
	"context"
	"crypto/pbkdf2"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"parley/internal/store"
)

// users is a fixed account table for Lookup; tests must not mutate it.
type users map[string]string // username -> password

// keyCache avoids re-running PBKDF2 in every test; keyed by password.
func (u users) lookup(t testing.TB, salt []byte) Lookup {
	type pair struct{ k1, k256 store.ScramKeys }
	keys := map[string]pair{}
	for name, pw := range u {
		k1, err := DeriveKeys(SHA1, pw, salt, 4096)
		if err != nil {
			t.Fatal(err)
		}
		k256, err := DeriveKeys(SHA256, pw, salt, 4096)
		if err != nil {
			t.Fatal(err)
		}
		keys[name] = pair{k1, k256}
	}
	return func(_ context.Context, name string) (store.ScramKeys, store.ScramKeys, error) {
		p, ok := keys[name]
		if !ok {
			return store.ScramKeys{}, store.ScramKeys{}, ErrUnknownUser
		}
		return p.k1, p.k256, nil
	}
}

// scramClient is the client side of RFC 5802, written from the RFC for the
// tests only.
type scramClient struct {
	h                Hash
	gs2, bare, nonce string
	salted           []byte
	cbData           []byte // channel-binding data after the gs2 header in c=
}

func newClient(h Hash, gs2, user, cnonce string) *scramClient {
	return &scramClient{h: h, gs2: gs2, bare: "n=" + user + ",r=" + cnonce, nonce: cnonce}
}

func (c *scramClient) first() []byte { return []byte(c.gs2 + c.bare) }

// final answers serverFirst; it returns the client-final message and the
// server signature it expects.
func (c *scramClient) final(t testing.TB, password, serverFirst string) ([]byte, string) {
	var r, salt string
	var iter int
	for _, a := range strings.Split(serverFirst, ",") {
		switch a[:2] {
		case "r=":
			r = a[2:]
		case "s=":
			salt = a[2:]
		case "i=":
			iter, _ = strconv.Atoi(a[2:])
		}
	}
	if !strings.HasPrefix(r, c.nonce) || len(r) == len(c.nonce) {
		t.Fatalf("server nonce %q does not extend %q", r, c.nonce)
	}
	if c.salted == nil {
		s, _ := base64.StdEncoding.DecodeString(salt)
		var err error
		if c.salted, err = pbkdf2.Key(c.h.new(), password, s, iter, c.h.size()); err != nil {
			t.Fatal(err)
		}
	}
	without := "c=" + base64.StdEncoding.EncodeToString(append([]byte(c.gs2), c.cbData...)) + ",r=" + r
	am := c.bare + "," + serverFirst + "," + without
	ck := hmacSum(c.h, c.salted, "Client Key")
	hh := c.h.new()()
	hh.Write(ck)
	sig := hmacSum(c.h, hh.Sum(nil), am)
	subtle.XORBytes(sig, sig, ck)
	sk := hmacSum(c.h, c.salted, "Server Key")
	return []byte(without + ",p=" + base64.StdEncoding.EncodeToString(sig)),
		"v=" + base64.StdEncoding.EncodeToString(hmacSum(c.h, sk, am))
}

func fixedNonce(n string) func() (string, error) {
	return func() (string, error) { return n, nil }
}

// RFC 5802 §5 and RFC 7677 §3, byte for byte.
func TestVectors(t *testing.T) {
	for i, tc := range []struct {
		mech, salt, snonce, first, serverFirst, final, serverFinal string
	}{
		0: {ScramSHA1, "QSXCR+Q6sek8bf92", "3rfcNHYJY1ZVvWVs7j",
			"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
			"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
			"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
			"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="},
		1: {ScramSHA256, "W22ZaJ0SNY7soEsUEjb6gQ==", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
			"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
			"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
			"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			salt, _ := base64.StdEncoding.DecodeString(tc.salt)
			cfg := &Config{Lookup: users{"user": "pencil"}.lookup(t, salt), Domain: "example.com"}
			s, err := NewServer(tc.mech, cfg)
			if err != nil {
				t.Fatal(err)
			}
			s.nonce = fixedNonce(tc.snonce)
			ctx := context.Background()
			out, done, err := s.Step(ctx, []byte(tc.first))
			if err != nil || done || string(out) != tc.serverFirst {
				t.Fatalf("server-first = %q, %v, %v; want %q", out, done, err, tc.serverFirst)
			}
			if s.Username() != "" {
				t.Fatal("Username set before success")
			}
			out, done, err = s.Step(ctx, []byte(tc.final))
			if err != nil || !done || string(out) != tc.serverFinal {
				t.Fatalf("server-final = %q, %v, %v; want %q", out, done, err, tc.serverFinal)
			}
			if s.Username() != "user" {
				t.Fatalf("Username() = %q", s.Username())
			}
			// Replaying the final message on the finished exchange fails.
			if _, _, err := s.Step(ctx, []byte(tc.final)); !errors.Is(err, &Failure{Condition: MalformedRequest}) {
				t.Fatalf("step after success: %v", err)
			}
		})
	}
}

var testSalt = []byte("0123456789abcdef")

func testConfig(t testing.TB) *Config {
	return &Config{
		Lookup: users{"juliet": "r0m30myr0m30", "user": "pencil", "élan": "pässwörd"}.lookup(t, testSalt),
		Domain: "Example.COM",
		Secret: []byte("test secret"),
	}
}

// exchange runs a full SCRAM exchange and returns the final error.
func exchange(t *testing.T, cfg *Config, mech, gs2, user, password string) (*Server, error) {
	t.Helper()
	h := SHA256
	if mech == ScramSHA1 {
		h = SHA1
	}
	s, err := NewServer(mech, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(h, gs2, user, "clientnonce")
	ctx := context.Background()
	sf, _, err := s.Step(ctx, c.first())
	if err != nil {
		return s, err
	}
	final, want := c.final(t, password, string(sf))
	out, done, err := s.Step(ctx, final)
	if err != nil {
		return s, err
	}
	if !done || string(out) != want {
		t.Fatalf("success data %q (done %v), want %q", out, done, want)
	}
	return s, nil
}

func TestExchange(t *testing.T) {
	cfg := testConfig(t)
	for i, tc := range []struct {
		mech, gs2, user, password string
		want                      Condition // "" for success
		username                  string
	}{
		0:  {ScramSHA256, "n,,", "juliet", "r0m30myr0m30", "", "juliet"},
		1:  {ScramSHA1, "n,,", "juliet", "r0m30myr0m30", "", "juliet"},
		2:  {ScramSHA256, "y,,", "juliet", "r0m30myr0m30", "", "juliet"},
		3:  {ScramSHA256, "n,,", "JULIET", "r0m30myr0m30", "", "juliet"},
		4:  {ScramSHA256, "n,a=juliet@example.com,", "juliet", "r0m30myr0m30", "", "juliet"},
		5:  {ScramSHA256, "n,a=Juliet@EXAMPLE.com.,", "juliet", "r0m30myr0m30", "", "juliet"},
		6:  {ScramSHA256, "n,,", "élan", "pässwörd", "", "élan"},
		7:  {ScramSHA256, "n,,", "juliet", "wrong", NotAuthorized, ""},
		8:  {ScramSHA1, "n,,", "juliet", "wrong", NotAuthorized, ""},
		9:  {ScramSHA256, "n,,", "romeo", "r0m30myr0m30", NotAuthorized, ""},
		10: {ScramSHA1, "n,,", "romeo", "r0m30myr0m30", NotAuthorized, ""},
		11: {ScramSHA256, "n,,", "no@pe", "x", NotAuthorized, ""},
		12: {ScramSHA256, "n,a=romeo@example.com,", "juliet", "r0m30myr0m30", InvalidAuthzid, ""},
		13: {ScramSHA256, "n,a=juliet@example.com/res,", "juliet", "r0m30myr0m30", InvalidAuthzid, ""},
		14: {ScramSHA256, "n,a=juliet@example.net,", "juliet", "r0m30myr0m30", InvalidAuthzid, ""},
		15: {ScramSHA256, "p=tls-unique,,", "juliet", "r0m30myr0m30", MalformedRequest, ""},
		16: {ScramSHA256, "x,,", "juliet", "r0m30myr0m30", MalformedRequest, ""},
		17: {ScramSHA256, "n,b=juliet,", "juliet", "r0m30myr0m30", MalformedRequest, ""},
		18: {ScramSHA256, "n,,", "ju=2Cliet", "r0m30myr0m30", NotAuthorized, ""},
		19: {ScramSHA256, "n,,", "ju=41liet", "r0m30myr0m30", MalformedRequest, ""},
		20: {ScramSHA256, "n,,", "", "r0m30myr0m30", MalformedRequest, ""},
		21: {ScramSHA256, "n,,", "user", "pencil", "", "user"},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s, err := exchange(t, cfg, tc.mech, tc.gs2, tc.user, tc.password)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("exchange failed: %v", err)
				}
			} else if !errors.Is(err, &Failure{Condition: tc.want}) {
				t.Fatalf("exchange error %v, want %s", err, tc.want)
			}
			if s.Username() != tc.username {
				t.Fatalf("Username() = %q, want %q", s.Username(), tc.username)
			}
		})
	}
}

// An unknown user sees the same kind of server-first message as a known
// one, and the same salt every time: nothing tells them apart.
func TestUnknownUserLooksReal(t *testing.T) {
	cfg := testConfig(t)
	first := func(user string) []string {
		s, _ := NewServer(ScramSHA256, cfg)
		out, _, err := s.Step(context.Background(), []byte("n,,n="+user+",r=abc"))
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		return strings.Split(string(out), ",")
	}
	a, b, known := first("romeo"), first("romeo"), first("juliet")
	if a[1] != b[1] || a[2] != b[2] {
		t.Fatalf("fake salt not stable: %v vs %v", a, b)
	}
	if len(a[1]) != len(known[1]) || a[2] != known[2] || a[1] == known[1] {
		t.Fatalf("fake %v differs in shape from real %v", a, known)
	}
	if c := first("mercutio"); c[1] == a[1] {
		t.Fatal("two unknown users share a salt")
	}
}

// A message changed after the first one is detected.
func TestTampered(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	for i, tamper := range []func(final string) string{
		0: func(f string) string { // flip a bit of the proof
			i := strings.LastIndex(f, "p=") + 2
			b, _ := base64.StdEncoding.DecodeString(f[i:])
			b[0] ^= 1
			return f[:i] + base64.StdEncoding.EncodeToString(b)
		},
		1: func(f string) string { return strings.Replace(f, "c=biws", "c=eSws", 1) }, // "y,,"
		2: func(f string) string { return strings.Replace(f, ",r=clientnonce", ",r=clientnoncX", 1) },
		3: func(f string) string { return f[:strings.LastIndex(f, ",p=")] },
		4: func(f string) string { return f + "AAAA" },                              // proof too long
		5: func(f string) string { return f[:strings.LastIndex(f, "=")] },           // bad base64
		6: func(f string) string { return strings.Replace(f, ",p=", ",x=y,p=", 1) }, // not covered by the proof
		7: func(f string) string { return strings.Replace(f, ",p=", ",7=y,p=", 1) },
		8: func(f string) string { return strings.Replace(f, "c=biws,", "", 1) },
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s, _ := NewServer(ScramSHA256, cfg)
			c := newClient(SHA256, "n,,", "juliet", "clientnonce")
			sf, _, err := s.Step(ctx, c.first())
			if err != nil {
				t.Fatal(err)
			}
			final, _ := c.final(t, "r0m30myr0m30", string(sf))
			_, done, err := s.Step(ctx, []byte(tamper(string(final))))
			var f *Failure
			if !errors.As(err, &f) || done || s.Username() != "" {
				t.Fatalf("tampered message accepted: %v, %v", done, err)
			}
		})
	}
}

// A client-final message recorded from one exchange does not authenticate
// another: the server nonce differs.
func TestReplay(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	s1, _ := NewServer(ScramSHA256, cfg)
	c := newClient(SHA256, "n,,", "juliet", "clientnonce")
	sf, _, _ := s1.Step(ctx, c.first())
	final, _ := c.final(t, "r0m30myr0m30", string(sf))
	if _, done, err := s1.Step(ctx, final); err != nil || !done {
		t.Fatalf("first exchange: %v", err)
	}
	s2, _ := NewServer(ScramSHA256, cfg)
	if _, _, err := s2.Step(ctx, c.first()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s2.Step(ctx, final); err == nil || s2.Username() != "" {
		t.Fatal("replayed client-final accepted")
	}
}

func TestClientFirstMalformed(t *testing.T) {
	cfg := testConfig(t)
	for i, in := range []string{
		0:  "n,,",
		1:  "n,,n=juliet",
		2:  "n,,r=abc,n=juliet",
		3:  "n,,m=ext,n=juliet,r=abc",
		4:  "n,,n=juliet,r=",
		5:  "n,,n=juliet,r=a b",
		6:  "n,,n=juliet,r=abc\x7f",
		7:  "n",
		8:  "n,",
		9:  "n,a=,n=juliet,r=abc",
		10: "n,,n=juliet,r=abc,bad",
		11: "n,,n=jul\x00iet,r=abc",
		12: "n,,n=jul\xffiet,r=abc",
		13: "n,,n=juliet=,r=abc",
		14: "n,,n=juliet=2,r=abc",
		15: "n,,n=juliet,r=abc," + strings.Repeat("x", MaxMessage),
		16: "y,a=juliet@example.com=2C,n=juliet,r=abc", // decodes, then is not her JID
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s, _ := NewServer(ScramSHA256, cfg)
			_, _, err := s.Step(context.Background(), []byte(in))
			var f *Failure
			if !errors.As(err, &f) || (f.Condition != MalformedRequest && f.Condition != InvalidAuthzid) {
				t.Fatalf("Step(%q) = %v, want malformed-request", in, err)
			}
			if _, _, err := s.Step(context.Background(), []byte("n,,n=juliet,r=abc")); err == nil {
				t.Fatal("exchange continued after a failure")
			}
		})
	}
}

func TestSaslname(t *testing.T) {
	for i, tc := range []struct {
		in, want string
		ok       bool
	}{
		0: {"abc", "abc", true},
		1: {"a=2Cb", "a,b", true},
		2: {"a=3Db=3D", "a=b=", true},
		3: {"=2C=3D", ",=", true},
		4: {"a=2c", "", false},
		5: {"a=", "", false},
		6: {"", "", false},
		7: {"a=3", "", false},
		8: {"a=41", "", false},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got, ok := decodeSaslname(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("decodeSaslname(%q) = %q, %v", tc.in, got, ok)
			}
		})
	}
}

// <auth/> without initial response gets one empty challenge.
func TestEmptyInitialResponse(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	s, _ := NewServer(ScramSHA256, cfg)
	out, done, err := s.Step(ctx, nil)
	if err != nil || done || out == nil || len(out) != 0 {
		t.Fatalf("first empty step = %q, %v, %v", out, done, err)
	}
	if _, _, err := s.Step(ctx, nil); !errors.Is(err, &Failure{Condition: MalformedRequest}) {
		t.Fatalf("second empty step: %v", err)
	}
	s, _ = NewServer(ScramSHA256, cfg)
	s.Step(ctx, nil)
	if _, _, err := s.Step(ctx, []byte("n,,n=juliet,r=abc")); err != nil {
		t.Fatalf("client-first after empty challenge: %v", err)
	}
}

func TestLookupErrors(t *testing.T) {
	disabled := &Failure{Condition: AccountDisabled}
	for i, tc := range []struct {
		err  error
		want Condition
	}{
		0: {disabled, AccountDisabled},
		1: {errors.New("db down"), TemporaryAuthFailure},
		2: {ErrUnknownUser, ""}, // proceeds with fake keys
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			var calls atomic.Int32
			cfg := &Config{Domain: "example.com", Lookup: func(context.Context, string) (store.ScramKeys, store.ScramKeys, error) {
				calls.Add(1)
				return store.ScramKeys{}, store.ScramKeys{}, tc.err
			}}
			s, _ := NewServer(ScramSHA256, cfg)
			_, _, err := s.Step(context.Background(), []byte("n,,n=juliet,r=abc"))
			if calls.Load() != 1 {
				t.Fatalf("lookup called %d times", calls.Load())
			}
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, &Failure{Condition: tc.want}) {
				t.Fatalf("err %v, want %s", err, tc.want)
			}
		})
	}
}

// Stored keys with too few iterations are not used: the exchange runs on
// fake keys and fails.
func TestWeakStoredKeys(t *testing.T) {
	salted, _ := pbkdf2.Key(SHA256.new(), "pencil", testSalt, 1000, 32)
	ck := hmacSum(SHA256, salted, "Client Key")
	h := SHA256.new()()
	h.Write(ck)
	weak := store.ScramKeys{Salt: testSalt, Iterations: 1000, StoredKey: h.Sum(nil), ServerKey: hmacSum(SHA256, salted, "Server Key")}
	cfg := &Config{Domain: "example.com", Lookup: func(context.Context, string) (store.ScramKeys, store.ScramKeys, error) {
		return store.ScramKeys{}, weak, nil
	}}
	s, _ := NewServer(ScramSHA256, cfg)
	out, _, err := s.Step(context.Background(), []byte("n,,n=user,r=abc"))
	if err != nil || !strings.HasSuffix(string(out), ",i=4096") {
		t.Fatalf("server-first %q, %v: weak keys presented", out, err)
	}
	if strings.Contains(string(out), base64.StdEncoding.EncodeToString(testSalt)) {
		t.Fatalf("server-first %q shows the weak keys' salt", out)
	}
}

// Optional extensions in client-first are ignored, not rejected.
func TestClientFirstExtension(t *testing.T) {
	s, _ := NewServer(ScramSHA256, testConfig(t))
	if _, _, err := s.Step(context.Background(), []byte("n,,n=juliet,r=abc,x=y,Z=")); err != nil {
		t.Fatal(err)
	}
}

func TestNewServer(t *testing.T) {
	cfg := testConfig(t)
	if _, err := NewServer("DIGEST-MD5", cfg); !errors.Is(err, &Failure{Condition: InvalidMechanism}) {
		t.Fatalf("unknown mechanism: %v", err)
	}
	if _, err := NewServer(ScramSHA256, &Config{Domain: "example.com"}); err == nil {
		t.Fatal("nil Lookup accepted")
	}
	if _, err := NewServer(ScramSHA256, &Config{Lookup: cfg.Lookup, Domain: "a..b"}); err == nil {
		t.Fatal("bad domain accepted")
	}
	for i, tc := range []struct {
		ch   Channel
		want string
	}{
		0: {Channel{}, "SCRAM-SHA-256 SCRAM-SHA-1"},
		1: {Channel{Secure: true}, "SCRAM-SHA-256 SCRAM-SHA-1 PLAIN"},
		2: {Channel{Secure: true, Bindings: map[string][]byte{TLSExporter: {1}}},
			"SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-1 PLAIN"},
	} {
		if got := strings.Join(Mechanisms(tc.ch), " "); got != tc.want {
			t.Errorf("%d: Mechanisms(%v) = %q", i, tc.ch, got)
		}
	}
}

func BenchmarkSCRAMSHA256Exchange(b *testing.B) {
	cfg := testConfig(b)
	ctx := context.Background()
	c := newClient(SHA256, "n,,", "juliet", "clientnonce")
	// The client's PBKDF2 is computed once (clients cache it too); what is
	// measured is the server's work per login plus the client's HMACs.
	b.ReportAllocs()
	for b.Loop() {
		s, _ := NewServer(ScramSHA256, cfg)
		sf, _, err := s.Step(ctx, c.first())
		if err != nil {
			b.Fatal(err)
		}
		final, _ := c.final(b, "r0m30myr0m30", string(sf))
		if _, done, err := s.Step(ctx, final); err != nil || !done {
			b.Fatal(err)
		}
	}
}
