package control

import (
	"context"
	"sort"
	"time"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
)

// Account is what operators see of an account: never its SCRAM keys.
type Account struct {
	Username string
	JID      jid.JID
	Created  time.Time
	Disabled bool
	Bot      bool // an automated account (disco client/bot)
	Sessions int  // live sessions (0 when no server runs)
}

// Account returns one account; store.ErrNotFound.
func (o *Ops) Account(ctx context.Context, username string) (Account, error) {
	bare, err := o.bare(username)
	if err != nil {
		return Account{}, err
	}
	u, err := o.Users.GetUser(ctx, username)
	if err != nil {
		return Account{}, err
	}
	a := Account{Username: u.Username, JID: bare, Created: u.Created, Disabled: u.Disabled, Bot: u.Bot}
	if o.Sessions != nil {
		a.Sessions = len(o.Sessions.Resources(bare))
	}
	return a, nil
}

// Stream errors that end the sessions of a disabled or suspended account
// (RFC 6120 §4.9.3.12: the entity is not authorized, now).
var (
	errDisabled  = stanza.ErrStreamNotAuthorized.WithText("account disabled")
	errSuspended = stanza.ErrStreamNotAuthorized.WithText("account suspended")
)

// SetDisabled disables an account, which refuses its logins (XEP-0133
// §4.3) and ends its live sessions, or enables it again. It returns how
// many sessions it ended; store.ErrNotFound.
func (o *Ops) SetDisabled(ctx context.Context, username string, disabled bool) (int, error) {
	bare, err := o.bare(username)
	if err != nil {
		return 0, err
	}
	if err := o.Users.SetUserDisabled(ctx, username, disabled); err != nil {
		return 0, err
	}
	if !disabled {
		return 0, nil
	}
	return o.EndSessions(bare, jid.JID{}, errDisabled), nil
}

// Suspension is what Suspend did.
type Suspension struct {
	Ended  int // sessions ended
	Tokens int // API tokens revoked
}

// Suspend locks a (possibly stolen) account out in one step: new logins
// are refused first, so nothing can log in between the steps; then every
// session ends with <not-authorized/>, which withdraws its presence
// (RFC 6121 §4.6: the server broadcasts unavailable presence for a
// session that ends), and the account's API tokens are revoked. Its
// shared upload URLs stop answering while it is disabled (the upload
// service reads the owner's account at each request).
// store.ErrNotFound for an unknown account.
//
// Resume enables the account again; the revoked tokens stay revoked, as
// whoever held them may not be the account's owner.
func (o *Ops) Suspend(ctx context.Context, username string) (Suspension, error) {
	var s Suspension
	bare, err := o.bare(username)
	if err != nil {
		return s, err
	}
	if err := o.Users.SetUserDisabled(ctx, username, true); err != nil {
		return s, err
	}
	s.Ended = o.EndSessions(bare, jid.JID{}, errSuspended)
	if o.Tokens != nil {
		if s.Tokens, err = o.Tokens.RevokeUserTokens(ctx, username); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Resume lets a suspended account log in again; store.ErrNotFound.
func (o *Ops) Resume(ctx context.Context, username string) error {
	if _, err := o.bare(username); err != nil {
		return err
	}
	return o.Users.SetUserDisabled(ctx, username, false)
}

// Session is one live session as operators see it.
type Session struct {
	JID       jid.JID // full
	Available bool
	Priority  int8
	// From the connection, where the session tells (c2s sessions do).
	IP        string
	Transport string // tcp, tls, websocket
	Since     time.Time
}

// sessionInfo is what a c2s session tells of its connection.
type sessionInfo interface {
	Info() (ip, transport string, since time.Time)
}

// userLister is the part of the router that lists who is connected.
type userLister interface {
	Users() []jid.JID
}

// SessionsOf returns the live sessions of an account, by resource.
func (o *Ops) SessionsOf(bare jid.JID) []Session {
	if o.Sessions == nil {
		return nil
	}
	var out []Session
	for _, r := range o.Sessions.Resources(bare) {
		s := Session{JID: r.Session.JID(), Available: r.Available, Priority: r.Priority}
		if i, ok := r.Session.(sessionInfo); ok {
			s.IP, s.Transport, s.Since = i.Info()
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].JID.String() < out[j].JID.String() })
	return out
}

// AllSessions returns every live session, by full JID.
func (o *Ops) AllSessions() []Session {
	l, ok := o.Sessions.(userLister)
	if !ok {
		return nil
	}
	var out []Session
	for _, u := range l.Users() {
		out = append(out, o.SessionsOf(u)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].JID.String() < out[j].JID.String() })
	return out
}

var errEndedByAdmin = stanza.ErrStreamNotAuthorized.WithText("session ended by an administrator")

// EndSession ends one session (a full JID) with <not-authorized/>;
// store.ErrNotFound when there is no such session.
func (o *Ops) EndSession(full jid.JID) error {
	if o.Sessions != nil {
		for _, r := range o.Sessions.Resources(full.Bare()) {
			if r.Session.JID() == full {
				r.Session.Terminate(errEndedByAdmin)
				return nil
			}
		}
	}
	return store.ErrNotFound
}

// EndAllSessions ends every session of an account with <not-authorized/>
// and returns how many.
func (o *Ops) EndAllSessions(bare jid.JID) int {
	return o.EndSessions(bare, jid.JID{}, errEndedByAdmin)
}
