package spam

import (
	"context"
	"strconv"
	"sync"
	"time"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
)

// New-account limits, defaults of the Options of the same names: a fresh
// account is the cheapest tool of a spammer, so during its first day it
// may write to strangers (JIDs not in its roster) only slowly.
const (
	DefaultNewAccountPeriod = 24 * time.Hour
	DefaultNewAccountRate   = 5 // messages per minute to strangers
)

// Users gives an account's creation time; store.Users provides it.
type Users interface {
	GetUser(ctx context.Context, username string) (store.User, error)
}

// Roster tells whether a contact is in a user's roster; the roster
// module (cached) provides it.
type Roster interface {
	Item(ctx context.Context, user, contact jid.JID) (store.RosterItem, bool, error)
}

// newAccounts limits what new accounts send to strangers.
type newAccounts struct {
	users  Users
	roster Roster
	period time.Duration
	rate   int
	now    func() time.Time

	mu sync.Mutex // guards byUser
	// byUser holds, per username with a session, its creation time
	// and its messages to strangers in the current minute; entries go
	// when the user's last session ends.
	byUser map[string]*newAccount
}

type newAccount struct {
	created time.Time
	window  time.Time // start of the current minute's count
	count   int
}

// errTooFast answers a new account's message to a stranger beyond the
// rate: policy-violation (RFC 6120 §8.3.3.12, a local service policy),
// type wait since it passes.
func (n *newAccounts) errTooFast() *stanza.Error {
	return stanza.ErrPolicyViolation.WithType("wait").WithText("new accounts may send " + strconv.Itoa(n.rate) +
		" messages a minute to contacts not in their roster")
}

// intercept is the outbound interceptor.
func (n *newAccounts) intercept(ctx context.Context, st *stanza.Stanza) error {
	if st.Kind != stanza.Message || st.Type == "error" || st.Type == "groupchat" ||
		st.To.Local() == "" || st.To.Bare() == st.From.Bare() || st.From.Local() == "" {
		return nil
	}
	user := st.From.Local()
	now := n.now()
	n.mu.Lock()
	a := n.byUser[user]
	n.mu.Unlock()
	if a == nil {
		u, err := n.users.GetUser(ctx, user)
		if err != nil {
			return err
		}
		a = &newAccount{created: u.Created}
		n.mu.Lock()
		if b := n.byUser[user]; b != nil {
			a = b
		} else {
			n.byUser[user] = a
		}
		n.mu.Unlock()
	}
	if now.Sub(a.created) >= n.period {
		return nil // not new (the common case: one map lookup)
	}
	if _, ok, err := n.roster.Item(ctx, st.From.Bare(), st.To); err != nil || ok {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if now.Sub(a.window) >= time.Minute {
		a.window, a.count = now, 0
	}
	if a.count >= n.rate {
		return n.errTooFast()
	}
	a.count++
	return nil
}

// forget drops what is counted of user, once offline.
func (n *newAccounts) forget(user string) {
	n.mu.Lock()
	delete(n.byUser, user)
	n.mu.Unlock()
}
