package store

import (
	"context"
	"errors"
	"time"
)

// FastTokens keeps the XEP-0484 (FAST) tokens of each account's devices,
// a device being one client installation named by its SASL2 user-agent
// id. Each device has two slots, current and next (XEP-0484 §6): a new
// token goes into next, and the first login with it moves it to current,
// so a client that missed the new token still logs in with the old one.
// Only what verifies a token is kept, never the token (FastToken).
// Devices belong to the account (deleting it deletes them).
type FastTokens interface {
	// FastDevices returns an account's devices, oldest first.
	FastDevices(ctx context.Context, username string) ([]FastDevice, error)
	// FastDevice returns one device; ErrNotFound if there is none.
	FastDevice(ctx context.Context, username, userAgent string) (FastDevice, error)
	// SaveFastDevice writes a device whole (adding or replacing it);
	// ErrNotFound if the account does not exist.
	SaveFastDevice(ctx context.Context, username string, d FastDevice) error
	// DeleteFastDevice removes a device and its tokens (a lost phone);
	// ErrNotFound if there is none.
	DeleteFastDevice(ctx context.Context, username, userAgent string) error
}

// FastDevice is one client installation with its token slots.
type FastDevice struct {
	UserAgent string // the SASL2 <user-agent id/>
	// Software and Name are what the client said of itself (<software/>,
	// <device/>), for people to recognise it.
	Software, Name string
	Mechanism      string // the mechanism both slots' tokens were issued for
	Current, Next  FastToken
	Created        time.Time
	Used           time.Time // last login with a token; zero: never
}

// FastToken is what verifies one token, which is not kept: for HT-*-NONE
// (draft-schmaus-kitten-sasl-ht) the client's proof is the constant
// HMAC(token, "Initiator"), so Verifier is that proof's SHA-256 (a copy of
// the store does not give the proof), and Responder is HMAC(token,
// "Responder"), the server's answer. For the channel-bound mechanisms
// (-EXPR, -ENDP; FastDevice.Mechanism says which) Verifier is a random
// seed the token is derived from with the server's SASL secret
// (sasl.BoundToken) and Responder is empty. A slot without a token has an
// empty Verifier.
type FastToken struct {
	Verifier, Responder []byte
	Expires             time.Time
}

// Empty reports whether the slot holds no token.
func (t FastToken) Empty() bool { return len(t.Verifier) == 0 }

// Written beside the interface (measure.go's rule: one method each).

// FastColumns are a fast_tokens row after its username.
const FastColumns = `user_agent, software, name, mechanism, cur_verifier, cur_responder, cur_expires,
	next_verifier, next_responder, next_expires, created, used`

func scanFastDevice(scan func(...any) error) (FastDevice, error) {
	var d FastDevice
	var ce, ne, created ScanTime
	var used OptionalTime
	err := scan(&d.UserAgent, &d.Software, &d.Name, &d.Mechanism, &d.Current.Verifier, &d.Current.Responder, &ce,
		&d.Next.Verifier, &d.Next.Responder, &ne, &created, &used)
	d.Current.Expires, d.Next.Expires, d.Created, d.Used = ce.Time, ne.Time, created.Time, used.Time
	return d, err
}

// FastDevices returns an account's devices, oldest first.
func (m StmtMethods) FastDevices(ctx context.Context, username string) ([]FastDevice, error) {
	out, err := QueryRows(ctx, m.DB, scanFastDevice, `SELECT `+FastColumns+` FROM fast_tokens
		WHERE username = `+m.DB.Param(1)+` ORDER BY created, user_agent`, username)
	return out, m.fail(err, "devices of %q", username)
}

// FastDevice returns one device; ErrNotFound, as it is, if there is none.
func (m StmtMethods) FastDevice(ctx context.Context, username, userAgent string) (FastDevice, error) {
	ds, err := QueryRows(ctx, m.DB, scanFastDevice, `SELECT `+FastColumns+` FROM fast_tokens
		WHERE username = `+m.DB.Param(1)+` AND user_agent = `+m.DB.Param(2), username, userAgent)
	if err != nil {
		return FastDevice{}, m.fail(err, "device of %q", username)
	}
	if len(ds) == 0 {
		return FastDevice{}, ErrNotFound
	}
	return ds[0], nil
}

// DeleteFastDevice removes a device; ErrNotFound, as it is, if there is
// none.
func (m StmtMethods) DeleteFastDevice(ctx context.Context, username, userAgent string) error {
	err := mustAffect(m.DB.Exec(ctx, `DELETE FROM fast_tokens WHERE username = `+m.DB.Param(1)+
		` AND user_agent = `+m.DB.Param(2), username, userAgent))
	if errors.Is(err, ErrNotFound) {
		return err
	}
	return m.fail(err, "delete device of %q", username)
}
