package private

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"parley/internal/defaults"
	"parley/internal/im/keylock"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// NS is the jabber:iq:private namespace.
const NS = "jabber:iq:private"

// Defaults of Options' limits.
const (
	// DefaultMaxSize bounds what one set may store, in serialised bytes.
	DefaultMaxSize = 64 << 10
	// DefaultMaxKeys bounds the elements one account keeps.
	DefaultMaxKeys = 256
	// DefaultMaxBytes bounds the bytes of all of one account's elements.
	DefaultMaxBytes = 1 << 20
)

// Store is the storage the module needs.
type Store = store.PrivateXML

// Options are the module's dependencies and limits; zero limits mean
// the defaults.
type Options struct {
	Store Store
	// Domain is the served domain; zero means the router's, at Register.
	Domain jid.JID
	// MaxSize is the most bytes one set may store.
	MaxSize int
	// MaxKeys and MaxBytes are the per-account quota: elements kept and
	// their bytes (docs/SECURITY.md).
	MaxKeys  int
	MaxBytes int64
	// PEP, if set, unifies XEP-0048 bookmarks in private XML with
	// XEP-0402 bookmarks in PEP (bookmarks.go); advertise FeatureCompat
	// on accounts.
	PEP PEP
	Log *slog.Logger // nil: slog.Default()
}

// Module answers jabber:iq:private IQs for one domain.
type Module struct {
	domain jid.JID
	store  Store
	limits Options

	// users serialises, per user, checking the quota with writing, so
	// that concurrent sets of one account cannot both pass.
	users *keylock.Locks
	pep   PEP
	log   *slog.Logger
}

// New returns the module; install it with Register.
func New(o Options) *Module {
	defaults.Positive(&o.MaxSize, DefaultMaxSize)
	defaults.Positive(&o.MaxKeys, DefaultMaxKeys)
	defaults.Positive(&o.MaxBytes, DefaultMaxBytes)
	return &Module{domain: o.Domain, store: o.Store, limits: o, users: keylock.New(32), pep: o.PEP, log: logger(o.Log)}
}

// Register installs the handler on r. XEP-0049 defines no disco feature,
// so none is advertised.
func (m *Module) Register(r *router.Router) {
	if m.domain.IsZero() {
		m.domain = r.Domain()
	}
	r.HandleIQ(NS, m.Handle)
	if m.pep != nil {
		m.pep.OnPublish(NSBookmarks, m.fromLegacyPEP)
	}
}

// Key is the storage key of a fragment: its element name and namespace.
func Key(el *xmlstream.Element) string { return el.Name + " " + el.Space }

// Handle answers a private storage get or set.
func (m *Module) Handle(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	q := iq.Payload()
	if q.Name != "query" {
		return nil, stanza.ErrBadRequest
	}
	user, ok := m.own(iq)
	if !ok {
		// XEP-0049 §2.3: another user's data is forbidden (the
		// preferred of the two conditions it allows).
		return nil, stanza.ErrForbidden
	}
	if len(q.Children) == 0 {
		// XEP-0049 §2.3: at least one child MUST be included, else
		// not-acceptable.
		return nil, stanza.ErrNotAcceptable.WithText("query names no element")
	}
	for _, c := range q.Children {
		if reserved(c.Space) {
			return nil, stanza.ErrNotAcceptable.WithText("namespace " + c.Space + " is reserved")
		}
	}
	if iq.Type == "set" {
		return nil, m.set(ctx, user, q, true)
	}
	// XEP-0049 §2.3: a get asks for one namespace at a time.
	if len(q.Children) != 1 {
		return nil, stanza.ErrBadRequest.WithText("get one element at a time")
	}
	return m.get(ctx, user, q.Children[0])
}

// own reports the sender's username when the IQ addresses the sender's own
// account: no 'to', or the sender's bare JID (RFC 6120 §10.3.3).
func (m *Module) own(iq *stanza.Stanza) (string, bool) {
	if iq.From.Domain() != m.domain.String() || iq.From.Local() == "" {
		return "", false
	}
	return iq.From.Local(), iq.To.IsZero() || iq.To == iq.From.Bare()
}

// reserved reports namespaces XEP-0049 §2.3 calls reserved ('jabber:*',
// 'http://jabber.org/*', 'vcard-temp'). Refusing them is optional there;
// we do, so that nothing can shadow a real protocol's data (a vCard stored
// here would not be the vCard others see). A child without its own
// namespace inherits jabber:iq:private and is caught by the same rule, as
// the schema's ##other demands.
func reserved(space string) bool {
	return strings.HasPrefix(space, "jabber:") ||
		strings.HasPrefix(space, "http://jabber.org/") ||
		space == "vcard-temp"
}

func (m *Module) get(ctx context.Context, user string, want *xmlstream.Element) (*xmlstream.Element, error) {
	res := xmlstream.New("query", NS)
	raw, err := m.store.PrivateXML(ctx, user, Key(want))
	if m.pep != nil && want.Name == "storage" && want.Space == NSBookmarks && (err == nil || errors.Is(err, store.ErrNotFound)) {
		var stored *xmlstream.Element
		if err == nil {
			stored, _ = xmlstream.Parse(raw, xmlstream.Limits{})
		}
		own := jid.MustParse(user + "@" + m.domain.String())
		b, ok, err := m.bookmarksFromPEP(ctx, own, stored)
		if err != nil {
			return nil, fmt.Errorf("private: bookmarks of %s from PEP: %w", user, err)
		}
		if ok {
			return res.Add(b), nil
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Nothing stored: return the (empty) element asked for, as
		// servers have always done, so clients read "no data".
		return res.Add(xmlstream.New(want.Name, want.Space)), nil
	case err != nil:
		return nil, fmt.Errorf("private: get %s %q: %w", user, Key(want), err)
	}
	// Parse rather than splice: a corrupt row must not break the
	// reader's stream. The element keeps Raw, so the bytes are copied.
	el, err := xmlstream.Parse(raw, xmlstream.Limits{})
	if err != nil || Key(el) != Key(want) {
		return nil, fmt.Errorf("private: stored %q of %s is not that element: %v", Key(want), user, err)
	}
	return res.Add(el), nil
}

// set stores every child of the query. XEP-0049 §2.3 lets a set carry
// several elements; each is its own key. The size limit and the account's
// quota apply to the whole set before anything is written, so a rejected
// set changes nothing. toLegacy: bookmarks go to XEP-0411's PEP node too
// (not when they came from it).
func (m *Module) set(ctx context.Context, user string, q *xmlstream.Element, toLegacy bool) error {
	raws := make([][]byte, len(q.Children))
	total := 0
	for i, c := range q.Children {
		raws[i] = xmlstream.Append(nil, c)
		total += len(raws[i])
	}
	if total > m.limits.MaxSize {
		// A size cap is local service policy (RFC 6120 §8.3.3.12).
		return stanza.ErrPolicyViolation.WithText("private data larger than " + strconv.Itoa(m.limits.MaxSize) + " bytes")
	}
	defer m.users.Lock(user).Unlock()
	if err := m.withinQuota(ctx, user, q, raws); err != nil {
		return err
	}
	for i, c := range q.Children {
		if err := m.store.SetPrivateXML(ctx, user, Key(c), raws[i]); err != nil {
			return fmt.Errorf("private: set %s %q: %w", user, Key(c), err)
		}
	}
	for _, c := range q.Children {
		if m.pep != nil && c.Name == "storage" && c.Space == NSBookmarks {
			own := jid.MustParse(user + "@" + m.domain.String())
			m.bookmarksToPEP(ctx, own, c)
			if toLegacy {
				m.toLegacyPEP(ctx, own, c)
			}
		}
	}
	return nil
}

// withinQuota checks that storing raws under the keys of q's children
// keeps the account within MaxKeys and MaxBytes, counting what they
// replace; a set that does not grow the account passes even beyond the
// quota (lowered by the operator), so data can always be shrunk.
func (m *Module) withinQuota(ctx context.Context, user string, q *xmlstream.Element, raws [][]byte) error {
	sizes, err := m.store.PrivateXMLSizes(ctx, user)
	if err != nil {
		return fmt.Errorf("private: sizes of %s: %w", user, err)
	}
	var before int64
	for _, n := range sizes {
		before += int64(n)
	}
	keysBefore := len(sizes)
	for i, c := range q.Children {
		sizes[Key(c)] = len(raws[i])
	}
	var after int64
	for _, n := range sizes {
		after += int64(n)
	}
	if (len(sizes) > keysBefore && len(sizes) > m.limits.MaxKeys) || (after > before && after > m.limits.MaxBytes) {
		// A quota is local service policy (RFC 6120 §8.3.3.12).
		return stanza.ErrPolicyViolation.WithText("private storage quota reached: " + strconv.Itoa(m.limits.MaxKeys) +
			" elements, " + strconv.FormatInt(m.limits.MaxBytes, 10) + " bytes")
	}
	return nil
}
