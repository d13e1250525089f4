package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"parley/internal/config"
	"parley/internal/oidc"
	"parley/internal/oidc/oidctest"
)

// callback is where the provider sends the browser back; nothing listens
// there: the test's browser stops at it.
const callback = "http://127.0.0.1:1/api/v1/sso/callback"

var users = map[string]map[string]any{
	"alice": {"preferred_username": "alice", "groups": []string{"staff", "xmpp-admins"}},
	"bob":   {"preferred_username": "bob@example.com", "groups": "service-desk"},
	"carol": {"email": "carol@example.com"}, // no preferred_username
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	d  time.Duration
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.d) }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.d += d; c.mu.Unlock() }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.d = time.Until(t); c.mu.Unlock() }

func newClient(t *testing.T, p *oidctest.Provider, now func() time.Time) *oidc.Client {
	t.Helper()
	c, err := oidc.New(oidc.Options{Now: now, Config: config.OIDC{Issuer: p.Issuer, ClientID: oidctest.ClientID,
		ClientSecret: oidctest.ClientSecret, RedirectURL: callback,
		Roles: map[string]string{"xmpp-admins": "admin", "service-desk": "helpdesk"}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// login runs Begin, the provider's forms and Finish.
func login(t *testing.T, c *oidc.Client, account string, req oidc.Request) (oidc.Identity, error) {
	t.Helper()
	authURL, state, err := c.Begin(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	back := oidctest.Authorize(t, oidctest.Browser(callback, nil), authURL, account, callback)
	if got := back.Query().Get("state"); got != state {
		t.Fatalf("state %q came back, want %q", got, state)
	}
	return c.Finish(t.Context(), state, back.Query().Get("code"))
}

func TestLogin(t *testing.T) {
	p := oidctest.Start(t, []string{callback}, users)
	c := newClient(t, p, nil)
	authURL, _, err := c.Begin(t.Context(), oidc.Request{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"code_challenge_method=S256", "code_challenge=", "nonce=", "state=", "scope=openid+profile"} {
		if !strings.Contains(authURL, want) {
			t.Errorf("authorization URL %s lacks %s", authURL, want)
		}
	}
	for i, tc := range []struct {
		account, name string
		roles         []string
		err           error
	}{
		0: {"alice", "alice", []string{"admin"}, nil},
		1: {"bob", "bob@example.com", []string{"helpdesk"}, nil},
		2: {"carol", "", nil, oidc.ErrNoUsername},
	} {
		req := oidc.Request{Role: "admin", Device: "dev-" + tc.account}
		id, err := login(t, c, tc.account, req)
		if !errors.Is(err, tc.err) || id.Name != tc.name || strings.Join(id.Roles, ",") != strings.Join(tc.roles, ",") ||
			id.Subject != tc.account || id.Issuer != p.Issuer || id.Request != req {
			t.Errorf("%d: %+v, %v; want name %q roles %v, err %v", i, id, err, tc.name, tc.roles, tc.err)
		}
	}
}

// TestStateOnce: a state is good for one answer; replayed, unknown or too
// old it is refused before the code is redeemed.
func TestStateOnce(t *testing.T) {
	p := oidctest.Start(t, []string{callback}, users)
	clk := &clock{}
	c := newClient(t, p, clk.Now)
	authURL, state, err := c.Begin(t.Context(), oidc.Request{})
	if err != nil {
		t.Fatal(err)
	}
	code := oidctest.Authorize(t, oidctest.Browser(callback, nil), authURL, "alice", callback).Query().Get("code")
	if _, err := c.Finish(t.Context(), "not-a-state", code); !errors.Is(err, oidc.ErrUnknownState) {
		t.Fatalf("unknown state: %v", err)
	}
	if _, err := c.Finish(t.Context(), state, code); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := c.Finish(t.Context(), state, code); !errors.Is(err, oidc.ErrUnknownState) {
		t.Fatalf("replayed state: %v, want ErrUnknownState", err)
	}
	authURL, state, err = c.Begin(t.Context(), oidc.Request{})
	if err != nil {
		t.Fatal(err)
	}
	code = oidctest.Authorize(t, oidctest.Browser(callback, nil), authURL, "alice", callback).Query().Get("code")
	clk.Add(oidc.PendingLife)
	if _, err := c.Finish(t.Context(), state, code); !errors.Is(err, oidc.ErrUnknownState) {
		t.Fatalf("expired state: %v, want ErrUnknownState", err)
	}
}

// flow is a relying party written in the test, to obtain real ID tokens
// from the provider that parley's client did not ask for.
type flow struct {
	oauth2.Config
	nonce, verifier string
}

func newFlow(t *testing.T, issuer, clientID, secret string) *flow {
	t.Helper()
	prov, err := gooidc.NewProvider(t.Context(), issuer)
	if err != nil {
		t.Fatal(err)
	}
	return &flow{Config: oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: prov.Endpoint(),
		RedirectURL: callback, Scopes: []string{gooidc.ScopeOpenID, "profile"}},
		nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
}

// code logs account in and returns the authorization code.
func (f *flow) code(t *testing.T, account string) string {
	t.Helper()
	u := f.AuthCodeURL("s", gooidc.Nonce(f.nonce), oauth2.S256ChallengeOption(f.verifier))
	return oidctest.Authorize(t, oidctest.Browser(callback, nil), u, account, callback).Query().Get("code")
}

// idToken logs account in and returns the ID token.
func (f *flow) idToken(t *testing.T, account string) string {
	t.Helper()
	tok, err := f.Exchange(t.Context(), f.code(t, account), oauth2.VerifierOption(f.verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no id_token")
	}
	return raw
}

// TestPKCERequired: a code redeemed without its PKCE verifier, or with
// another, is refused by the provider (so a stolen code is useless).
func TestPKCERequired(t *testing.T) {
	p := oidctest.Start(t, []string{callback}, users)
	f := newFlow(t, p.Issuer, oidctest.ClientID, oidctest.ClientSecret)
	if _, err := f.Exchange(t.Context(), f.code(t, "alice")); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("no verifier: %v, want invalid_grant", err)
	}
	if _, err := f.Exchange(t.Context(), f.code(t, "alice"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil ||
		!strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("another verifier: %v, want invalid_grant", err)
	}
	if _, err := f.Exchange(t.Context(), f.code(t, "alice"), oauth2.VerifierOption(f.verifier)); err != nil {
		t.Fatalf("the verifier: %v", err)
	}
}

// TestRefusedTokens: ID tokens the provider really issued, for another
// client, by another issuer, past their expiry or for another login, and
// tokens signed with a key not the provider's, are refused.
func TestRefusedTokens(t *testing.T) {
	p := oidctest.Start(t, []string{callback}, users)
	clk := &clock{}
	c := newClient(t, p, clk.Now)
	f := newFlow(t, p.Issuer, oidctest.ClientID, oidctest.ClientSecret)
	good := f.idToken(t, "alice")
	if id, err := c.Verify(t.Context(), good, f.nonce); err != nil || id.Name != "alice" {
		t.Fatalf("a good token: %+v, %v", id, err)
	}
	other := newFlow(t, p.Issuer, oidctest.OtherID, oidctest.OtherSecret)
	wrongAudience := other.idToken(t, "alice")
	elsewhere := newFlow(t, p.OtherIssuer, oidctest.ClientID, oidctest.ClientSecret)
	wrongIssuer := elsewhere.idToken(t, "alice")
	forgedKid := forge(t, good, "")
	forgedNewKid := forge(t, good, "a-key-nobody-has")
	for i, tc := range []struct {
		raw, nonce string
		err        error
		why        string
	}{
		0: {wrongAudience, other.nonce, oidc.ErrInvalidToken, "expected audience"},
		1: {wrongIssuer, elsewhere.nonce, oidc.ErrInvalidToken, "different provider"},
		2: {forgedKid, f.nonce, oidc.ErrInvalidToken, "signature"},
		3: {forgedNewKid, f.nonce, oidc.ErrInvalidToken, "signature"},
		4: {good, "another login's nonce", oidc.ErrNonce, ""},
		5: {good[:len(good)-4], f.nonce, oidc.ErrInvalidToken, ""},
	} {
		if _, err := c.Verify(t.Context(), tc.raw, tc.nonce); !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%d: %v, want %v (%s)", i, err, tc.err, tc.why)
		}
	}
	// Expired: past its exp by more than the skew (default a minute).
	exp := expiry(t, good)
	clk.Set(exp.Add(time.Minute + 2*time.Second))
	var expired *gooidc.TokenExpiredError
	if _, err := c.Verify(t.Context(), good, f.nonce); !errors.Is(err, oidc.ErrInvalidToken) || !errors.As(err, &expired) {
		t.Fatalf("expired: %v", err)
	}
	clk.Set(exp.Add(time.Minute - 2*time.Second)) // within the skew
	if _, err := c.Verify(t.Context(), good, f.nonce); err != nil {
		t.Fatalf("expired within the skew: %v", err)
	}
}

// expiry is the exp claim of an ID token.
func expiry(t *testing.T, raw string) time.Time {
	t.Helper()
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil || claims.Exp == 0 {
		t.Fatalf("exp: %v", err)
	}
	return time.Unix(claims.Exp, 0)
}

// forge signs raw's claims with a new key under kid (raw's own if "").
func forge(t *testing.T, raw, kid string) string {
	t.Helper()
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if kid == "" {
		kid = jws.Signatures[0].Header.KeyID
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	s, err := signer.Sign(jws.UnsafePayloadWithoutVerification())
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestKeyRotation: after the provider signs with a new key, tokens
// signed with it verify (the JWKS is read again for the unknown key id)
// and so do those of the old key still published.
func TestKeyRotation(t *testing.T) {
	p := oidctest.Start(t, []string{callback}, users)
	c := newClient(t, p, nil)
	f := newFlow(t, p.Issuer, oidctest.ClientID, oidctest.ClientSecret)
	old := f.idToken(t, "alice")
	if _, err := c.Verify(t.Context(), old, f.nonce); err != nil {
		t.Fatal(err)
	}
	kid := p.Rotate(t)
	f = newFlow(t, p.Issuer, oidctest.ClientID, oidctest.ClientSecret)
	fresh := f.idToken(t, "alice")
	jws, err := jose.ParseSignedCompact(fresh, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || jws.Signatures[0].Header.KeyID != kid {
		t.Fatalf("the provider did not sign with its new key %s: %v", kid, err)
	}
	if _, err := c.Verify(t.Context(), fresh, f.nonce); err != nil {
		t.Fatalf("a token of the new key: %v", err)
	}
	if id, err := login(t, c, "alice", oidc.Request{}); err != nil || id.Name != "alice" {
		t.Fatalf("login after the rotation: %+v, %v", id, err)
	}
}

// TestPendingBound: at most MaxPending logins wait; expired ones make
// room.
func TestPendingBound(t *testing.T) {
	p := oidctest.Start(t, []string{callback}, users)
	clk := &clock{}
	c := newClient(t, p, clk.Now)
	ctx := context.Background()
	for range oidc.MaxPending {
		if _, _, err := c.Begin(ctx, oidc.Request{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := c.Begin(ctx, oidc.Request{}); !errors.Is(err, oidc.ErrTooManyPending) {
		t.Fatalf("one more: %v, want ErrTooManyPending", err)
	}
	clk.Add(oidc.PendingLife)
	if _, _, err := c.Begin(ctx, oidc.Request{}); err != nil {
		t.Fatalf("after the others expired: %v", err)
	}
}
