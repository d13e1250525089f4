// Package barrier enforces information barriers: compliance policies that
// forbid two groups of a site's users (research and trading, say) from
// exchanging anything through the server. A barrier names its two sides;
// between a member of one and a member of the other no message, IQ or
// subscription request passes (the sender gets policy-violation with the
// barrier's name), presence and PEP notifications are dropped, and a room
// that holds one side refuses to let the other in. Every refusal is
// audited (action policy, details policy=information-barrier).
//
// Both sides are local accounts, so the router's inbound processing sees
// every stanza between them, whatever path it takes (clients, PEP, the
// server on the account's behalf); rooms call Admit at each join.
package barrier

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"parley/internal/audit"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
)

// Policy is the name of barrier refusals in audit records.
const Policy = "information-barrier"

// Barrier separates A from B.
type Barrier struct {
	Name string
	A, B []jid.JID // bare JIDs of local accounts
}

// Auditor records audit events; *audit.Log provides it.
type Auditor interface {
	Emit(audit.Record)
}

// Options configure the module.
type Options struct {
	Barriers []Barrier
	// Audit, if set, records refusals (throttled per sender and
	// recipient: audit.Refusals).
	Audit Auditor
	Now   func() time.Time // nil: time.Now
	Log   *slog.Logger
}

// Module checks stanzas and room joins against the barriers.
type Module struct {
	barriers []Barrier
	// sides maps a member to the barriers it is in, with its side.
	sides   map[jid.JID][]side
	refused *audit.Refusals
}

type side struct {
	barrier int  // index in barriers
	a       bool // on side A
}

// New indexes the barriers.
func New(o Options) *Module {
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Module{barriers: o.Barriers, sides: make(map[jid.JID][]side)}
	if o.Audit != nil {
		m.refused = audit.NewRefusals(o.Audit, o.Now)
	}
	for i, b := range o.Barriers {
		for _, j := range b.A {
			m.sides[j.Bare()] = append(m.sides[j.Bare()], side{i, true})
		}
		for _, j := range b.B {
			m.sides[j.Bare()] = append(m.sides[j.Bare()], side{i, false})
		}
	}
	return m
}

// Register installs the check on the router's inbound processing, which
// every stanza to a local account passes.
func (m *Module) Register(r *router.Router) {
	if len(m.barriers) > 0 {
		r.InterceptOutbound(m.subscription)
		r.InterceptInbound(m.intercept)
	}
}

// subscription is the outbound interceptor for subscription requests and
// approvals, which the presence module sends on from the account's bare
// JID (RFC 6121 §3.1.2), where intercept could no longer tell whom to
// answer: they bounce to the client that sent them.
func (m *Module) subscription(_ context.Context, st *stanza.Stanza) error {
	if st.Kind != stanza.Presence || (st.Type != "subscribe" && st.Type != "subscribed") {
		return nil
	}
	return m.refuse(st)
}

// Between returns the barrier that separates x and y (bare or full JIDs).
func (m *Module) Between(x, y jid.JID) (*Barrier, bool) {
	ys := m.sides[y.Bare()]
	for _, s := range m.sides[x.Bare()] {
		for _, t := range ys {
			if s.barrier == t.barrier && s.a != t.a {
				return &m.barriers[s.barrier], true
			}
		}
	}
	return nil, false
}

// intercept is the inbound interceptor. Requests (messages, IQ get/set)
// across a barrier bounce with policy-violation; what is not a request
// (presence of any kind, answers, errors, headlines, and what the server
// sends for an account from its bare JID: PEP notifications) is dropped,
// since there is nobody to tell.
func (m *Module) intercept(_ context.Context, st *stanza.Stanza) error {
	if st.From.Local() == "" {
		return nil
	}
	if _, ok := m.Between(st.From, st.To); !ok {
		return nil
	}
	request := st.From.Resource() != "" && st.Kind != stanza.Presence && st.Type != "error" && st.Type != "result" && st.Type != "headline"
	if !request {
		return router.ErrDrop
	}
	return m.refuse(st)
}

// refuse answers a request across a barrier with policy-violation naming
// it, and audits it; nil when no barrier separates its ends.
func (m *Module) refuse(st *stanza.Stanza) error {
	b, ok := m.Between(st.From, st.To)
	if !ok {
		return nil
	}
	err := stanza.ErrPolicyViolation.WithText(fmt.Sprintf("The information barrier %q forbids communication between %s and %s.",
		b.Name, st.From.Bare(), st.To.Bare()))
	m.refused.Record(Policy, st, err)
	return err
}

// Admit is the rooms' check at a join (muc.Options.Admit): joiner may not
// enter a room where someone on the other side of a barrier is an
// occupant.
func (m *Module) Admit(room, joiner jid.JID, occupants []jid.JID) error {
	for _, o := range occupants {
		b, ok := m.Between(joiner, o)
		if !ok {
			continue
		}
		err := stanza.ErrPolicyViolation.WithText(fmt.Sprintf("The information barrier %q keeps you out of this room while someone on its other side is in it.", b.Name))
		m.refused.Record(Policy, &stanza.Stanza{Kind: stanza.Presence, From: joiner, To: room}, err)
		return err
	}
	return nil
}
