package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"parley/internal/config"
)

// Bounds of the logins begun and not finished: a login waits at most
// PendingLife for the browser to come back, and at most MaxPending wait
// at once (each is ~200 bytes), so a flood of /sso/login costs bounded
// memory and is then refused.
const (
	PendingLife = 10 * time.Minute
	MaxPending  = 10000
)

// Errors of a login, with stable identities.
var (
	// ErrUnknownState: the state is not one this server gave out, was
	// used already (a replay) or has expired.
	ErrUnknownState = errors.New("oidc: unknown, used or expired state")
	// ErrTooManyPending: MaxPending logins are waiting.
	ErrTooManyPending = errors.New("oidc: too many logins pending")
	// ErrProvider: the provider could not be reached or refused the
	// code (an invalid or replayed code, a wrong PKCE verifier).
	ErrProvider = errors.New("oidc: provider")
	// ErrInvalidToken: the ID token's signature, issuer, audience or
	// expiry is wrong, or there is no ID token.
	ErrInvalidToken = errors.New("oidc: invalid ID token")
	// ErrNonce: the ID token is not the answer to this login.
	ErrNonce = errors.New("oidc: ID token nonce does not match")
	// ErrNoUsername: the username claim is missing or not a string.
	ErrNoUsername = errors.New("oidc: no username claim")
)

// Request is what the browser's login asked for, carried through the
// round trip to the provider.
type Request struct {
	Role   string // "" or control.RoleUser for an account's login, else an operator role
	Device string // the XMPP client's SASL2 user-agent id, for a FAST token
}

// Identity is a verified login.
type Identity struct {
	Issuer, Subject string
	// Name is the username claim's value: a localpart or a bare JID.
	Name string
	// Roles are the parley roles the roles claim maps to, sorted.
	Roles []string
	// Expires is the ID token's expiry.
	Expires time.Time
	Request
}

// Options configure a Client.
type Options struct {
	Config config.OIDC
	// HTTPClient talks to the provider; nil: one with a 10 s timeout
	// that trusts Config.CA (or the system roots).
	HTTPClient *http.Client
	Now        func() time.Time
}

// Client logs people in through one provider. Discovery happens at the
// first login, not when the server starts, so a provider that is down
// delays no start; a failed discovery is tried again at the next login.
type Client struct {
	cfg    config.OIDC
	secret string
	hc     *http.Client
	now    func() time.Time

	mu sync.Mutex // guards the fields below
	// provider, oauth and verifier are set by the first discovery that
	// succeeds.
	provider *gooidc.Provider
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
	pending  map[string]pending // by state
}

// pending is a login begun: what checks its answer.
type pending struct {
	nonce, verifier string
	expires         time.Time
	Request
}

// New returns a Client; it reads the client secret (file) and the CA.
func New(o Options) (*Client, error) {
	cfg := o.Config.WithDefaults()
	secret, err := cfg.Secret()
	if err != nil {
		return nil, err
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
		if cfg.CA != "" {
			pem, err := os.ReadFile(cfg.CA)
			if err != nil {
				return nil, fmt.Errorf("auth.oidc.ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("auth.oidc.ca: no certificate in %s", cfg.CA)
			}
			hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Client{cfg: cfg, secret: secret, hc: hc, now: o.Now, pending: map[string]pending{}}, nil
}

// discover reads the provider's configuration once (mu held).
func (c *Client) discover(ctx context.Context) error {
	if c.provider != nil {
		return nil
	}
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, c.hc), c.cfg.Issuer)
	if err != nil {
		return fmt.Errorf("%w: discovery: %w", ErrProvider, err)
	}
	c.provider = p
	c.oauth = oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.secret, Endpoint: p.Endpoint(),
		RedirectURL: c.cfg.RedirectURL, Scopes: append([]string{gooidc.ScopeOpenID}, c.cfg.Scopes...)}
	// The skew is granted by checking expiry against a clock that runs
	// that much late (go-oidc allows 5 minutes on nbf itself).
	c.verifier = p.Verifier(&gooidc.Config{ClientID: c.cfg.ClientID,
		Now: func() time.Time { return c.now().Add(-c.cfg.ClockSkew.Duration) }})
	return nil
}

// Begin starts a login: it returns the provider's authorization URL
// (with a fresh state, nonce and S256 PKCE challenge) and the state,
// which the caller may also bind to the browser.
func (c *Client) Begin(ctx context.Context, req Request) (authURL, state string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.discover(ctx); err != nil {
		return "", "", err
	}
	now := c.now()
	if len(c.pending) >= MaxPending {
		for s, p := range c.pending {
			if !now.Before(p.expires) {
				delete(c.pending, s)
			}
		}
		if len(c.pending) >= MaxPending {
			return "", "", ErrTooManyPending
		}
	}
	state, nonce := random(), random()
	verifier := oauth2.GenerateVerifier()
	c.pending[state] = pending{nonce: nonce, verifier: verifier, expires: now.Add(PendingLife), Request: req}
	return c.oauth.AuthCodeURL(state, gooidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), state, nil
}

// take removes and returns the login of state, once.
func (c *Client) take(state string) (pending, *oauth2.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pending[state]
	delete(c.pending, state)
	if !ok || c.provider == nil || !c.now().Before(p.expires) {
		return p, nil, ErrUnknownState
	}
	o := c.oauth
	return p, &o, nil
}

// Finish completes the login of state with the code the provider sent
// back: it redeems the code with the PKCE verifier and the client secret
// and verifies the ID token. A state is good for one try, right or wrong.
func (c *Client) Finish(ctx context.Context, state, code string) (Identity, error) {
	p, o, err := c.take(state)
	if err != nil {
		return Identity{}, err
	}
	tok, err := o.Exchange(gooidc.ClientContext(ctx, c.hc), code, oauth2.VerifierOption(p.verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("%w: code exchange: %w", ErrProvider, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fmt.Errorf("%w: the token response holds no id_token", ErrInvalidToken)
	}
	id, err := c.Verify(ctx, raw, p.nonce)
	id.Request = p.Request
	return id, err
}

// Verify checks an ID token (OpenID Connect Core §3.1.3.7): its
// signature by a key of the provider's JWKS (fetched again when an
// unknown key appears: rotation), issuer, audience (this client),
// expiry (with the configured skew) and nonce; and reads its claims.
func (c *Client) Verify(ctx context.Context, raw, nonce string) (Identity, error) {
	c.mu.Lock()
	err := c.discover(ctx)
	v := c.verifier
	c.mu.Unlock()
	if err != nil {
		return Identity{}, err
	}
	t, err := v.Verify(gooidc.ClientContext(ctx, c.hc), raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if subtle.ConstantTimeCompare([]byte(t.Nonce), []byte(nonce)) != 1 {
		return Identity{}, ErrNonce
	}
	var claims map[string]any
	if err := t.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: claims: %w", ErrInvalidToken, err)
	}
	id := Identity{Issuer: t.Issuer, Subject: t.Subject, Expires: t.Expiry, Roles: c.roles(claims[c.cfg.RolesClaim])}
	name, ok := claims[c.cfg.UsernameClaim].(string)
	if !ok || name == "" {
		return id, fmt.Errorf("%w %q", ErrNoUsername, c.cfg.UsernameClaim)
	}
	id.Name = name
	return id, nil
}

// roles maps the roles claim (a string or a list of strings) to parley
// roles; values without a mapping are ignored.
func (c *Client) roles(claim any) []string {
	var values []any
	switch v := claim.(type) {
	case string:
		values = []any{v}
	case []any:
		values = v
	}
	var out []string
	for _, v := range values {
		s, _ := v.(string)
		if r, ok := c.cfg.Roles[s]; ok && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// random is 256 bits from crypto/rand, base64url.
func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
