// Package spam holds the server's spam controls, as router interceptors:
// a server blocklist of domains and JIDs ([abuse] blocked) applied to
// stanzas from and to those addresses, a limit on the messages new
// accounts send to strangers (newaccount.go), and each user's choice to
// refuse strangers (strangers.go). Users' own lists are XEP-0191
// (internal/im/blocking); this one is the operator's, matched by the
// same rules (blocking.List).
package spam

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"parley/internal/audit"
	"parley/internal/defaults"
	"parley/internal/im/blocking"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
)

// ErrBlockedAddress answers a local user's stanza to an address on the
// server blocklist: RFC 6120 §8.3.3.10 names "sending to entities at a
// blacklisted domain" as the case of not-allowed.
var ErrBlockedAddress = stanza.ErrNotAllowed.WithText("this server does not exchange stanzas with that address")

// Options configure the module.
type Options struct {
	// Blocked are the addresses the server exchanges nothing with: a
	// domain (with its subdomains and every JID at them), a bare JID
	// (every resource) or a full JID.
	Blocked []jid.JID

	// Users and Roster enable the new-account limit: during
	// NewAccountPeriod after its creation an account sends at most
	// NewAccountRate messages a minute to JIDs not in its roster. Both
	// nil: no limit. 0 means the defaults.
	Users            Users
	Roster           Roster
	NewAccountPeriod time.Duration
	NewAccountRate   int
	// Filters (with Roster) enables the stranger filter: each user may
	// refuse messages and subscription requests from JIDs not in their
	// roster, a choice made with the NodeStrangers ad-hoc command added
	// to Commands. nil: no filter, no command.
	Filters  Filters
	Commands Commands
	// Audit, if set, records refusals (action policy, outcome denied;
	// audit.go bounds how many).
	Audit Auditor
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	Log *slog.Logger
}

// Module is the spam controls of one domain.
type Module struct {
	blocked blocking.List
	fresh   *newAccounts // nil: no new-account limit
	strange *strangers   // nil: no stranger filter
	cmds    Commands
	refused *audit.Refusals // nil: no audit
	log     *slog.Logger
}

// New returns the module; install it with Register.
func New(o Options) *Module {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Module{blocked: blocking.NewList(o.Blocked), log: o.Log, refused: audit.NewRefusals(o.Audit, o.Now)}
	if o.Users != nil && o.Roster != nil {
		defaults.Positive(&o.NewAccountPeriod, DefaultNewAccountPeriod)
		defaults.Positive(&o.NewAccountRate, DefaultNewAccountRate)
		m.fresh = &newAccounts{users: o.Users, roster: o.Roster, period: o.NewAccountPeriod, rate: o.NewAccountRate,
			now: o.Now, byUser: make(map[string]*newAccount)}
	}
	if o.Filters != nil && o.Roster != nil {
		m.strange = &strangers{filters: o.Filters, roster: o.Roster, choice: make(map[string]bool)}
		m.cmds = o.Commands
	}
	return m
}

// ParseBlocked parses the [abuse] blocked addresses.
func ParseBlocked(addrs []string) ([]jid.JID, error) {
	out := make([]jid.JID, 0, len(addrs))
	for _, a := range addrs {
		j, err := jid.Parse(a)
		if err != nil {
			return nil, fmt.Errorf("spam: blocked address %q: %w", a, err)
		}
		out = append(out, j)
	}
	return out, nil
}

// Register installs the interceptors: the blocklist's when it lists
// anything (otherwise there is no cost per stanza), then the new-account
// limit's (a refused stanza is not counted).
func (m *Module) Register(r *router.Router) {
	if len(m.blocked) > 0 {
		r.InterceptOutbound(m.interceptOutbound)
		r.InterceptInbound(m.interceptInbound)
	}
	if m.fresh != nil {
		r.InterceptOutbound(func(ctx context.Context, st *stanza.Stanza) error {
			err := m.fresh.intercept(ctx, st)
			m.refused.Record(PolicyNewAccount, st, err)
			return err
		})
		r.OnLastSessionEnded(func(_ context.Context, user jid.JID) { m.fresh.forget(user.Local()) })
	}
	if m.strange != nil {
		r.InterceptInbound(func(ctx context.Context, st *stanza.Stanza) error {
			err := m.strange.intercept(ctx, r, st)
			m.refused.Record(PolicyStrangers, st, err)
			return err
		})
		r.OnLastSessionEnded(func(_ context.Context, user jid.JID) { m.strange.forget(user.Local()) })
		if m.cmds != nil {
			m.cmds.Add(m.strange.command())
		}
	}
}

// interceptOutbound checks a stanza a local user sends: to a blocked
// address it is refused with not-allowed; a blocked local account sends
// nothing to others. Presence is dropped without an error, as a
// broadcast is not the client's request.
func (m *Module) interceptOutbound(_ context.Context, st *stanza.Stanza) error {
	if st.To.IsZero() || st.To.Bare() == st.From.Bare() || st.To.IsDomain() && st.To.Domain() == st.From.Domain() {
		return nil // the account itself, or its server
	}
	if !m.blocked.Matches(st.To) && !m.blocked.Matches(st.From) {
		return nil
	}
	if st.Kind == stanza.Presence || st.Type == "error" || st.Type == "result" {
		return router.ErrDrop
	}
	m.refused.Record(PolicyBlocklist, st, ErrBlockedAddress)
	return ErrBlockedAddress
}

// interceptInbound checks a stanza to a local user: from a blocked
// address (another server's user, later over federation), or to a
// blocked local account. The recipient then looks absent, as for a
// user's own block (XEP-0191 §3.3): service-unavailable for messages and
// IQ requests, nothing for presence and IQ answers.
func (m *Module) interceptInbound(_ context.Context, st *stanza.Stanza) error {
	if st.From.IsZero() || st.From.Bare() == st.To.Bare() {
		return nil
	}
	if !m.blocked.Matches(st.From) && !m.blocked.Matches(st.To) {
		return nil
	}
	switch {
	case st.Kind == stanza.Presence:
		return router.ErrDrop
	case st.Kind == stanza.IQ && st.Type != "get" && st.Type != "set":
		return router.ErrDrop
	case st.Type == "error":
		return router.ErrDrop // never answer an error (RFC 6120 §8.3.1)
	}
	m.refused.Record(PolicyBlocklist, st, stanza.ErrServiceUnavailable)
	return stanza.ErrServiceUnavailable
}
