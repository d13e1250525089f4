package c2s

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"parley/internal/sasl"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// FAST (XEP-0484): a client that logged in with its password asks for a
// token and logs in with it next time in one round trip, with an HT
// mechanism: HT-SHA-256-EXPR (tls-exporter) or -ENDP
// (tls-server-end-point) where the connection has the binding, or -NONE.
// Tokens are kept per account and device (the SASL2 user-agent id) in two
// slots (store.FastTokens), bound to the mechanism they were issued for;
// the store keeps no token (docs/design/22_sasl2.md): for -NONE what
// verifies it, for the bound ones a seed the token is derived from with
// the server's SASL secret.

const nsFAST = "urn:xmpp:fast:0"

// DefaultFastLifetime is how long a token is valid unless configured.
const DefaultFastLifetime = 14 * 24 * time.Hour

// FastStore keeps the devices' tokens (store.FastTokens has it).
type FastStore interface {
	FastDevice(ctx context.Context, username, userAgent string) (store.FastDevice, error)
	SaveFastDevice(ctx context.Context, username string, d store.FastDevice) error
	DeleteFastDevice(ctx context.Context, username, userAgent string) error
}

// fastRequest is what an <authenticate/> asked of FAST.
type fastRequest struct {
	requestToken string // <request-token mechanism/>: issue a token for it
	fast         bool   // <fast/>: the exchange presents a token
	invalidate   bool   // <fast invalidate='true'/>: log out this token
}

// fastDevice is the device an HT exchange looked up, kept until success
// to rotate its slots.
type fastLogin struct {
	device store.FastDevice
	found  bool
}

// addFAST reads a FAST element of <authenticate/> (XEP-0484 §4.2, §4.4);
// offered are the HT mechanisms of the stream.
func (r *sasl2Request) addFAST(el *xmlstream.Element, offered []string) error {
	if r.fast == nil {
		r.fast = &fastRequest{}
	}
	switch el.Name {
	case "request-token":
		m := el.Get("mechanism")
		if !slices.Contains(offered, m) {
			return errors.New("FAST mechanism not offered")
		}
		r.fast.requestToken = m
	case "fast":
		r.fast.fast = true
		v := el.Get("invalidate")
		r.fast.invalidate = v == "true" || v == "1"
	}
	return nil
}

// fastMechanisms are the HT mechanisms offered in <fast/> on a channel
// (not in the mechanism list): none without FAST or where the stream is
// not secure (§8: tokens are replayable otherwise).
func (srv *Server) fastMechanisms(ch sasl.Channel) []string {
	if srv.cfg.Fast == nil {
		return nil
	}
	return sasl.HTMechanisms(ch)
}

// appendFASTFeature offers FAST inline in SASL2 (XEP-0484 §4.1) with the
// mechanisms of the channel. No 'tls-0rtt': parley does not take 0-RTT
// data.
func (srv *Server) appendFASTFeature(b []byte, ch sasl.Channel) []byte {
	mechs := srv.fastMechanisms(ch)
	if len(mechs) == 0 {
		return b
	}
	b = append(b, "<fast xmlns='"+nsFAST+"'>"...)
	return append(appendMechanisms(b, mechs), "</fast>"...)
}

// startFAST begins an HT exchange: the device's token slots, newest
// first, are what the client may present.
func (s *session) startFAST(_ context.Context, mech string, req *sasl2Request, ch sasl.Channel) (*sasl.Server, *sasl.Failure) {
	if !ch.Secure {
		return nil, &sasl.Failure{Condition: sasl.EncryptionRequired, Text: "FAST needs TLS"}
	}
	if req.userAgent == "" {
		// XEP-0484 §6.1: clients MUST identify their device.
		return nil, &sasl.Failure{Condition: sasl.MalformedRequest, Text: "FAST needs a user-agent id"}
	}
	login := &fastLogin{}
	req.login = login
	now := s.srv.cfg.Clock.Now()
	lookup := func(ctx context.Context, username string) ([]sasl.Token, error) {
		d, err := s.srv.cfg.Fast.FastDevice(ctx, username, req.userAgent)
		if errors.Is(err, store.ErrNotFound) {
			return nil, sasl.ErrUnknownUser
		}
		if err != nil {
			return nil, err
		}
		login.device, login.found = d, true
		var out []sasl.Token
		for _, t := range []store.FastToken{d.Next, d.Current} {
			tok := sasl.Token{Verifier: t.Verifier, Responder: t.Responder, Mechanism: d.Mechanism,
				Expired: t.Empty() || !now.Before(t.Expires)}
			if d.Mechanism != sasl.HTSHA256None && !t.Empty() {
				// The bound mechanisms' slots hold a seed (newFastToken).
				tok.Verifier, tok.Responder = nil, nil
				tok.Key = []byte(sasl.BoundToken(s.srv.saslConfig, username, req.userAgent, t.Verifier))
			}
			out = append(out, tok)
		}
		return out, nil
	}
	ex, err := sasl.NewServerOn(mech, s.srv.saslConfig, sasl.Offer{Channel: ch, Tokens: lookup})
	if err != nil {
		return nil, &sasl.Failure{Condition: sasl.InvalidMechanism}
	}
	return ex, nil
}

// fastSuccess does FAST's part of a successful SASL2 login and returns
// what goes into <success/>: after a token login it moves the device's
// new token to current (§6) or, with invalidate, deletes the device's
// tokens (§4.6); it issues a new token when the client asked for one or
// the token used is past half its life (rotation, §4.5).
func (s *session) fastSuccess(ctx context.Context, req *sasl2Request) ([]byte, error) {
	if req.userAgent != "" {
		s.device.Store(&device{username: s.username, userAgent: req.userAgent})
	}
	if s.srv.cfg.Fast == nil || req.userAgent == "" {
		return nil, nil
	}
	now := s.srv.cfg.Clock.Now()
	life := s.srv.cfg.FastLifetime
	issue := req.fast != nil && req.fast.requestToken != ""
	mech := ""
	if issue {
		mech = req.fast.requestToken
	}
	tokenLogin := req.login != nil && req.login.found && req.tokenUsed >= 0
	var d store.FastDevice
	changed := false
	if tokenLogin {
		d = req.login.device
		if req.fast != nil && req.fast.invalidate {
			if err := s.srv.cfg.Fast.DeleteFastDevice(ctx, s.username, req.userAgent); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("c2s: FAST invalidate: %w", err)
			}
			s.srv.log.Info("FAST token invalidated by its client", "user", s.username)
			if !issue {
				return nil, nil
			}
			d = store.FastDevice{}
		} else {
			used := d.Current
			if req.tokenUsed == 0 { // the next slot: the client has the new token
				used, d.Current, d.Next = d.Next, d.Next, store.FastToken{}
				changed = true
			}
			// The last use is kept to the hour: a phone reconnecting all
			// day costs no store write per login.
			if now.Sub(d.Used) >= usedPrecision {
				d.Used, changed = now, true
			}
			if !issue && used.Expires.Sub(now) < life/2 {
				issue, mech = true, d.Mechanism // rotation keeps the mechanism
			}
		}
	}
	if !issue {
		if changed {
			return nil, s.saveDevice(ctx, d)
		}
		return nil, nil
	}
	if d.UserAgent == "" {
		var err error
		if d, err = s.srv.fastDevice(ctx, s.username, req.userAgent, now); err != nil {
			return nil, err
		}
	}
	d.Software, d.Name = req.software, req.device
	token, expires := s.srv.putToken(&d, s.username, mech, now)
	if err := s.saveDevice(ctx, d); err != nil {
		return nil, err
	}
	return []byte("<token xmlns='" + nsFAST + "' expiry='" + expires.UTC().Format(time.RFC3339) +
		"' token='" + token + "'/>"), nil
}

// fastDevice returns an account's device, or a new one made now.
func (srv *Server) fastDevice(ctx context.Context, username, userAgent string, now time.Time) (store.FastDevice, error) {
	d, err := srv.cfg.Fast.FastDevice(ctx, username, userAgent)
	if errors.Is(err, store.ErrNotFound) {
		return store.FastDevice{UserAgent: userAgent, Created: now}, nil
	}
	if err != nil {
		return d, fmt.Errorf("c2s: FAST device: %w", err)
	}
	return d, nil
}

// putToken issues a token for mech into d's next slot, dropping one
// issued before and never used (§4.5). The slots share the device's
// mechanism, so a token for another one empties current: the old token
// is no longer accepted.
func (srv *Server) putToken(d *store.FastDevice, username, mech string, now time.Time) (string, time.Time) {
	if d.Mechanism != mech {
		d.Current, d.Mechanism = store.FastToken{}, mech
	}
	token, slot := srv.newFastToken(mech, username, d.UserAgent, now.Add(srv.cfg.FastLifetime))
	d.Next = slot
	return token, slot.Expires
}

func (s *session) saveDevice(ctx context.Context, d store.FastDevice) error {
	if err := s.srv.cfg.Fast.SaveFastDevice(ctx, s.username, d); err != nil {
		return fmt.Errorf("c2s: FAST device: %w", err)
	}
	return nil
}

// usedPrecision is how precisely a device's last token login is kept.
const usedPrecision = time.Hour

// fastTokenBytes is the entropy of a -NONE token: 72 random bytes, 96
// characters of base64.
const fastTokenBytes = 72

// fastSeedBytes is the entropy of a channel-bound token's seed.
const fastSeedBytes = 32

// newFastToken draws a token for mech and what the store keeps of it
// (store.FastToken): for -NONE the SHA-256 of the constant proof and the
// responder message; for a channel-bound mechanism, whose proof changes
// with the channel, a seed the token is derived from with the server's
// secret (sasl.BoundToken).
func (srv *Server) newFastToken(mech, username, userAgent string, expires time.Time) (string, store.FastToken) {
	expires = expires.Truncate(time.Second)
	if mech != sasl.HTSHA256None {
		seed := make([]byte, fastSeedBytes)
		rand.Read(seed)
		return sasl.BoundToken(srv.saslConfig, username, userAgent, seed), store.FastToken{Verifier: seed, Expires: expires}
	}
	b := make([]byte, fastTokenBytes)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	mac := func(label string) []byte {
		m := hmac.New(sha256.New, []byte(token))
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	v := sha256.Sum256(mac("Initiator"))
	return token, store.FastToken{Verifier: v[:], Responder: mac("Responder"), Expires: expires}
}

// ErrNoFast: the server keeps no FAST tokens (Config.Fast is nil).
var ErrNoFast = errors.New("c2s: FAST is off")

// IssueFastToken gives an account's device a new token, as a login that
// asked for one would (XEP-0484 §4.2), for a login made outside XMPP
// (single sign-on, docs/design/26_oidc.md). The token goes into the
// device's next slot, so the device's first XMPP login with it makes it
// current; it is returned, never kept, with its expiry.
func (srv *Server) IssueFastToken(ctx context.Context, username, userAgent, software, name string) (string, time.Time, error) {
	if srv.cfg.Fast == nil {
		return "", time.Time{}, ErrNoFast
	}
	now := srv.cfg.Clock.Now()
	d, err := srv.fastDevice(ctx, username, userAgent, now)
	if err != nil {
		return "", time.Time{}, err
	}
	// -NONE: a browser's client (the SSO case) sees no channel binding.
	d.Software, d.Name = software, name
	token, expires := srv.putToken(&d, username, sasl.HTSHA256None, now)
	if err := srv.cfg.Fast.SaveFastDevice(ctx, username, d); err != nil {
		return "", time.Time{}, fmt.Errorf("c2s: FAST device: %w", err)
	}
	return token, expires, nil
}

// RevokeDevice deletes a device's FAST tokens and ends its sessions (a
// lost phone): the sessions that logged in with its user-agent id. It
// returns how many sessions it ended; store.ErrNotFound if the account
// has no such device and no session from it.
func (srv *Server) RevokeDevice(ctx context.Context, username, userAgent string) (int, error) {
	var err error
	if srv.cfg.Fast != nil {
		err = srv.cfg.Fast.DeleteFastDevice(ctx, username, userAgent)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, err
		}
	}
	list := srv.deviceSessions(username, userAgent)
	for _, ss := range list {
		if ss.bound.Load() {
			ss.Terminate(errDeviceRevoked)
		} else {
			ss.terminateUnbound(errDeviceRevoked)
		}
	}
	if len(list) == 0 && err != nil {
		return 0, err
	}
	return len(list), nil
}

// DeviceSessions returns the full JIDs of the bound sessions of an
// account's device.
func (srv *Server) DeviceSessions(username, userAgent string) []string {
	var out []string
	for _, ss := range srv.deviceSessions(username, userAgent) {
		if ss.bound.Load() {
			out = append(out, ss.JID().String())
		}
	}
	return out
}

// device names the client installation a session logged in from.
type device struct{ username, userAgent string }

var errDeviceRevoked = stanza.ErrStreamNotAuthorized.WithText("device revoked")

// deviceSessions are the sessions that logged in from a device.
func (srv *Server) deviceSessions(username, userAgent string) []*session {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var list []*session
	for ss := range srv.sessions {
		if d := ss.device.Load(); d != nil && d.username == username && d.userAgent == userAgent {
			list = append(list, ss)
		}
	}
	return list
}
