package sasl

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"sync"

	"parley/internal/jid"
	"parley/internal/store"
)

// Mechanism names as advertised in <mechanisms/>.
const (
	ScramSHA256     = "SCRAM-SHA-256"
	ScramSHA1       = "SCRAM-SHA-1"
	ScramSHA256Plus = "SCRAM-SHA-256-PLUS"
	ScramSHA1Plus   = "SCRAM-SHA-1-PLUS"
	Plain           = "PLAIN"
)

// MaxMessage bounds one client message; larger ones are malformed-request.
// Real messages are a few hundred bytes.
const MaxMessage = 4096

// Mechanisms returns the mechanisms to advertise on ch, most preferred
// first: the -PLUS variants where there is something to bind to (RFC
// 5802 §6), and PLAIN, which sends the password itself, only under TLS
// (RFC 6120 §6.4.1); callers must also refuse PLAIN otherwise, since the
// exchange trusts the Channel it is given.
func Mechanisms(ch Channel) []string {
	var m []string
	if len(ch.Bindings) > 0 {
		m = append(m, ScramSHA256Plus, ScramSHA1Plus)
	}
	m = append(m, ScramSHA256, ScramSHA1)
	if ch.Secure {
		m = append(m, Plain)
	}
	return m
}

// ErrUnknownUser is what a Lookup returns for a username without an
// account. Lookup may also return a *Failure (account-disabled,
// credentials-expired), which ends the exchange with that condition at
// once, before any password is checked (so it tells a client without the
// password that the account exists); any other error ends it with
// temporary-auth-failure.
var ErrUnknownUser = errors.New("sasl: unknown user")

// Lookup returns the stored keys of a user (normalised localpart).
type Lookup func(ctx context.Context, username string) (sha1, sha256 store.ScramKeys, err error)

// Config is shared by all exchanges of one virtual host.
type Config struct {
	// Lookup finds a user's keys. Required.
	Lookup Lookup
	// Domain is the domain users authenticate to; an authzid is accepted
	// only if it is the authenticating user's bare JID on it. Required.
	Domain string
	// Secret keys the fake salt and keys presented for unknown users, so
	// the salt of a missing account is as stable as a real one and does
	// not reveal that the account is missing. It should persist across
	// restarts; if empty, a random per-process secret is used.
	Secret []byte
	// Iterations is the count presented for unknown users; set it to what
	// NewKeys is given. Zero means DefaultIterations.
	Iterations int
	// CheckPassword, if set, verifies PLAIN passwords of accounts kept
	// elsewhere (a directory, internal/directory) before Lookup is asked:
	// nil authenticates the user; ErrUnknownUser means not its account
	// (the stored keys decide); a *Failure ends the exchange with it; any
	// other error is temporary-auth-failure. SCRAM never calls it.
	CheckPassword func(ctx context.Context, username, password string) error
	// TokenRefused, if set, is asked after a token (HT-*, XEP-0484 FAST)
	// proved itself for an account without keys here, whose password is
	// kept elsewhere (a directory) and which a token login never checks:
	// true refuses the login with account-disabled (the directory no
	// longer lists the user).
	TokenRefused func(username string) bool
}

// processSecret stands in for Config.Secret when none is configured.
var processSecret = sync.OnceValue(func() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
})

// state of an exchange.
type state int

const (
	stStart     state = iota // nothing received
	stEmptySent              // empty challenge sent for an absent initial response
	stFirst                  // server-first sent, waiting for client-final (SCRAM)
	stDone                   // succeeded
	stFailed                 // failed; every further Step fails
)

// Server is one authentication exchange. It is not safe for concurrent use;
// a connection's reader goroutine owns it.
type Server struct {
	cfg    *Config
	domain string
	mech   string
	hash   Hash
	st     state
	nonce  func() (string, error) // server nonce; replaced in tests for fixed vectors
	offer  Offer                  // the stream's channel and advertised mechanisms
	plus   bool                   // a -PLUS mechanism: the client must bind
	token  int                    // the token an HT exchange used (token.go)

	username  string // normalised authcid, valid after success
	attempted string // the authcid asked for, normalised if it can be
	scram     scramState
}

// NewServer starts an exchange of mechanism mech that knows nothing of
// its channel: no channel binding, no XEP-0474 hash. An unknown mech is a
// *Failure with invalid-mechanism; a bad cfg is a plain error.
func NewServer(mech string, cfg *Config) (*Server, error) { return NewServerOn(mech, cfg, Offer{}) }

// NewServerOn starts an exchange of mechanism mech on a stream where the
// server made offer: SCRAM binds to offer.Channel (-PLUS), refuses a
// client that says it could have bound where we offered -PLUS (RFC 5802
// §6, "y"), and signs offer.Mechanisms into the server-first-message
// (XEP-0474).
func NewServerOn(mech string, cfg *Config, offer Offer) (*Server, error) {
	if cfg == nil || cfg.Lookup == nil {
		return nil, errors.New("sasl: Config.Lookup is required")
	}
	d, err := jid.Domainpart(cfg.Domain)
	if err != nil {
		return nil, errors.Join(errors.New("sasl: Config.Domain"), err)
	}
	s := &Server{cfg: cfg, domain: d, mech: mech, nonce: randomNonce, offer: offer, token: -1}
	switch mech {
	case ScramSHA256:
		s.hash = SHA256
	case ScramSHA1:
		s.hash = SHA1
	case ScramSHA256Plus, ScramSHA1Plus:
		if len(offer.Channel.Bindings) == 0 {
			return nil, fail(InvalidMechanism, "nothing to bind to on this connection")
		}
		s.hash, s.plus = SHA256, true
		if mech == ScramSHA1Plus {
			s.hash = SHA1
		}
	case Plain:
	case HTSHA256None, HTSHA256Endp, HTSHA256Expr:
		if offer.Tokens == nil || !offer.Channel.Secure {
			return nil, fail(InvalidMechanism, "no tokens on this stream")
		}
		if typ, _ := htBinding(mech); typ != "" && offer.Channel.Bindings[typ] == nil {
			return nil, fail(InvalidMechanism, "nothing to bind to on this connection")
		}
	default:
		return nil, fail(InvalidMechanism, "")
	}
	return s, nil
}

// Mechanism returns the mechanism of the exchange.
func (s *Server) Mechanism() string { return s.mech }

// Step consumes one client message (decoded from base64 by the caller) and
// returns the next challenge, or with done the additional data to send in
// <success/> (may be empty), or a *Failure. Pass an empty in for <auth/>
// without initial response: the reply is the empty challenge of RFC 6120
// §6.4.2. After a failure or success every Step fails.
func (s *Server) Step(ctx context.Context, in []byte) (out []byte, done bool, err error) {
	out, done, f := s.step(ctx, in)
	if f != nil {
		s.st = stFailed
		return nil, false, f
	}
	if done {
		s.st = stDone
	}
	return out, done, nil
}

func (s *Server) step(ctx context.Context, in []byte) ([]byte, bool, *Failure) {
	if len(in) > MaxMessage {
		return nil, false, fail(MalformedRequest, "message too long")
	}
	switch s.st {
	case stDone, stFailed:
		return nil, false, fail(MalformedRequest, "exchange already ended")
	case stStart, stEmptySent:
		if len(in) == 0 {
			if s.st == stEmptySent {
				return nil, false, fail(MalformedRequest, "empty response")
			}
			s.st = stEmptySent
			return []byte{}, false, nil
		}
		if s.mech == Plain {
			f := s.plain(ctx, in)
			return nil, f == nil, f
		}
		if IsHT(s.mech) {
			out, f := s.hashedToken(ctx, in)
			return out, f == nil, f
		}
		out, f := s.clientFirst(ctx, in)
		if f == nil {
			s.st = stFirst
		}
		return out, false, f
	case stFirst:
		out, f := s.clientFinal(in)
		return out, f == nil, f
	}
	return nil, false, fail(MalformedRequest, "")
}

// Username returns the authenticated, normalised username (the localpart of
// the bare JID on Config.Domain) after success, "" before.
func (s *Server) Username() string {
	if s.st != stDone {
		return ""
	}
	return s.username
}

// Attempted returns the account the exchange tries to authenticate as
// (the normalised username, or the authcid as sent if it cannot be one),
// "" before the client has named it. Back-off per account keys on it,
// whether or not the exchange succeeded.
func (s *Server) Attempted() string { return s.attempted }

// identify normalises the authcid and checks the authzid (RFC 6120 §6.3.8:
// we act for no one else, so an authzid must name the user's own bare
// JID). ok is false if the authcid cannot be a username at all; the caller
// then goes on as for an unknown user.
func (s *Server) identify(authcid, authzid string) (user string, ok bool, f *Failure) {
	user, err := jid.Localpart(authcid)
	ok = err == nil
	s.attempted = authcid
	if ok {
		s.attempted = user
	}
	if authzid == "" {
		return user, ok, nil
	}
	if !ok {
		return "", false, fail(InvalidAuthzid, "")
	}
	want, err1 := jid.New(user, s.domain, "")
	got, err2 := jid.Parse(authzid)
	if err1 != nil || err2 != nil || got != want {
		return "", false, fail(InvalidAuthzid, "")
	}
	return user, ok, nil
}

// lookup fetches the keys of user for the exchange's hash (for PLAIN,
// SHA-256 if usable, else SHA-1), or fake keys for an unknown user. known
// is false for fake keys; h is the hash the keys belong to.
func (s *Server) lookup(ctx context.Context, user, raw string, valid bool) (k store.ScramKeys, h Hash, known bool, f *Failure) {
	if valid {
		k1, k256, err := s.cfg.Lookup(ctx, user)
		var lf *Failure
		switch {
		case err == nil:
			if s.hash != SHA1 && usable(SHA256, k256) {
				return k256, SHA256, true, nil
			}
			if s.hash != SHA256 && usable(SHA1, k1) {
				return k1, SHA1, true, nil
			}
		case errors.As(err, &lf):
			return k, 0, false, lf
		case !errors.Is(err, ErrUnknownUser):
			return k, 0, false, fail(TemporaryAuthFailure, "")
		}
	} else {
		user = raw
	}
	h = s.hash
	if h == 0 {
		h = SHA256
	}
	return s.fakeKeys(h, user), h, false, nil
}

// fakeKeys derives a stable salt and keys for a username that has none, so
// that the server-first message of an unknown user looks like that of a
// known one and the exchange fails the same way, at the proof.
func (s *Server) fakeKeys(h Hash, user string) store.ScramKeys {
	secret := s.cfg.Secret
	if len(secret) == 0 {
		secret = processSecret()
	}
	sum := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(label + "\x00" + user))
		return m.Sum(nil)
	}
	it := s.cfg.Iterations
	if it < MinIterations {
		it = DefaultIterations
	}
	n := h.size()
	return store.ScramKeys{
		Salt:       sum("salt")[:SaltSize],
		Iterations: it,
		StoredKey:  sum("stored")[:n],
		ServerKey:  sum("server")[:n],
	}
}

// randomNonce is 18 random bytes (RFC 5802 §5.1 asks for a fresh nonce per
// exchange), in base64, which has no ','.
func randomNonce() (string, error) {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b), nil
}
