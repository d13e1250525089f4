package vcard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// NS is the vcard-temp namespace, also its disco feature (XEP-0054 §4).
const NS = "vcard-temp"

// DefaultMaxSize bounds a stored vCard. It leaves room for an avatar
// (XEP-0153 puts a base64 PHOTO in the vCard) while keeping one account
// from turning the store into a file host.
const DefaultMaxSize = 64 << 10

// Options are the module's dependencies and limits.
type Options struct {
	Store store.VCards
	// Domain is the served domain; zero means the router's, at Register.
	Domain jid.JID
	// MaxSize is the largest vCard accepted, in serialised bytes; 0
	// means DefaultMaxSize.
	MaxSize int
	// PEP, if set, turns on the conversion between the vCard's photo and
	// the XEP-0084 avatar (XEP-0398): advertise NSConversion on accounts.
	PEP PEP
	// Fallback, if set, gives the vCard of a user who stored none (a
	// directory's attributes, internal/directory), or nil.
	Fallback func(ctx context.Context, username string) *xmlstream.Element
	// Bot, if set, tells whether an account is a bot (store.User.Bot):
	// its vCard then says so (markBot).
	Bot func(ctx context.Context, username string) bool
	Log *slog.Logger // nil: slog.Default()
}

// Module answers vcard-temp IQs for one domain.
type Module struct {
	domain   jid.JID
	store    store.VCards
	maxSize  int
	pep      PEP
	fallback func(ctx context.Context, username string) *xmlstream.Element
	bot      func(ctx context.Context, username string) bool
	log      *slog.Logger
	hashes   hashes
	// mu serialises changing a vCard by the conversion with a client's
	// set, so neither loses the other's change.
	mu sync.Mutex
}

// New returns the module; install it with Register.
func New(o Options) *Module {
	defaults.Positive(&o.MaxSize, DefaultMaxSize)
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	return &Module{domain: o.Domain, store: o.Store, maxSize: o.MaxSize, pep: o.PEP, fallback: o.Fallback, bot: o.Bot, log: log,
		hashes: hashes{m: map[string]string{}}}
}

// Register installs the handler on r and advertises the feature.
func (m *Module) Register(r *router.Router) {
	if m.domain.IsZero() {
		m.domain = r.Domain()
	}
	r.HandleIQ(NS, m.Handle)
	r.AddFeature(NS)
	if m.pep != nil {
		m.registerConversion(r)
	}
}

// Handle answers a vCard get or set.
func (m *Module) Handle(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	if q := iq.Payload(); q.Name != "vCard" {
		return nil, stanza.ErrBadRequest
	}
	if iq.Type == "set" {
		return nil, m.set(ctx, iq)
	}
	return m.get(ctx, iq)
}

// own reports the sender's username when the IQ addresses the sender's
// own account: no 'to', or the sender's bare JID (RFC 6120 §10.3.3).
func (m *Module) own(iq *stanza.Stanza) (string, bool) {
	if iq.From.Domain() != m.domain.String() || iq.From.Local() == "" {
		return "", false
	}
	if iq.To.IsZero() || iq.To == iq.From.Bare() {
		return iq.From.Local(), true
	}
	return "", false
}

func (m *Module) get(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	user, self := m.own(iq)
	if !self && (iq.To.Local() == "" || !iq.To.IsBare() || iq.To.Domain() != m.domain.String()) {
		// The server itself has no vCard.
		return nil, stanza.ErrItemNotFound
	}
	if !self {
		user = iq.To.Local()
	}
	el, err := m.stored(ctx, user, self)
	if m.bot != nil && m.bot(ctx, user) {
		if errors.Is(err, stanza.ErrItemNotFound) { // a bot's vCard says at least that
			el, err = xmlstream.New("vCard", NS), nil
		}
		if el != nil {
			markBot(el)
		}
	}
	return el, err
}

// markBot marks a vCard as a bot's: KIND "application", vCard 4's word
// for "a software application" (RFC 6350 §6.1.4, RFC 6473), written as
// vcard-temp writes its other properties. A mark already there stays.
func markBot(v *xmlstream.Element) {
	if v.ChildText("KIND", NS) == "application" {
		return
	}
	kept := v.Children[:0:0]
	for _, c := range v.Children {
		if c.Name != "KIND" || c.Space != NS {
			kept = append(kept, c)
		}
	}
	v.Children = kept
	v.Add(xmlstream.NewText("KIND", NS, "application"))
}

// stored returns user's vCard from the store or the fallback; for
// another user's missing vCard, nil and item-not-found.
func (m *Module) stored(ctx context.Context, user string, self bool) (*xmlstream.Element, error) {
	raw, err := m.store.VCard(ctx, user)
	if errors.Is(err, store.ErrNotFound) && m.fallback != nil {
		if el := m.fallback(ctx, user); el != nil {
			return el, nil
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound) && self:
		// XEP-0054 §3.1: a user without a vCard gets an empty one,
		// which clients treat as "nothing set yet" rather than a failure.
		return xmlstream.New("vCard", NS), nil
	case errors.Is(err, store.ErrNotFound):
		// XEP-0054 §3.3: another user's missing vCard MUST be an error.
		return nil, stanza.ErrItemNotFound
	case err != nil:
		return nil, fmt.Errorf("vcard: get %s: %w", user, err)
	}
	// Parse what the store returns rather than splice it in blindly: one
	// corrupt row must not write broken XML into a reader's stream. The
	// parsed element keeps Raw, so the reply still copies the bytes.
	el, err := xmlstream.Parse(raw, xmlstream.Limits{})
	if err != nil || el.Name != "vCard" || el.Space != NS {
		return nil, fmt.Errorf("vcard: stored vCard of %s is not a vCard: %v", user, err)
	}
	return el, nil
}

func (m *Module) set(ctx context.Context, iq *stanza.Stanza) error {
	user, self := m.own(iq)
	if !self {
		// XEP-0054 §3.2: only the owner may change a vCard.
		return stanza.ErrForbidden
	}
	raw := xmlstream.Append(nil, iq.Payload())
	max := m.maxSize
	if len(raw) > max {
		// A size cap is local service policy (RFC 6120 §8.3.3.12).
		return stanza.ErrPolicyViolation.WithText("vCard larger than " + strconv.Itoa(max) + " bytes")
	}
	m.mu.Lock()
	err := m.store.SetVCard(ctx, user, raw)
	m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("vcard: set %s: %w", user, err)
	}
	if m.pep != nil {
		m.toAvatar(ctx, iq.From.Bare(), iq.Payload())
	}
	return nil
}
