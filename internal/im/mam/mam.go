package mam

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"parley/internal/dataform"
	"parley/internal/im/hints"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/rsm"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Namespaces and features.
const (
	NS         = "urn:xmpp:mam:2"
	NSExtended = "urn:xmpp:mam:2#extended"
	NSForward  = "urn:xmpp:forward:0"
	NSDelay    = "urn:xmpp:delay"
	NSRSM      = rsm.NS
	NSData     = dataform.NS
	NSFullText = "urn:xmpp:fulltext:0"
	NSMarkers  = "urn:xmpp:chat-markers:0"
	NSRetract  = "urn:xmpp:message-retract:1"
	NSRetract0 = "urn:xmpp:message-retract:0"
	NSFasten   = "urn:xmpp:fasten:0"
	NSReaction = "urn:xmpp:reactions:0"
	NSOMEMO    = "eu.siacs.conversations.axolotl"
	NSOMEMO2   = "urn:xmpp:omemo:2"
)

// Page sizes (XEP-0059 §2.1: the responder may return fewer than asked).
const (
	DefaultPage = 50
	MaxPage     = 250
)

// Store is the storage the archive needs.
type Store = store.Archives

// Roster answers the "roster" archiving default (XEP-0441): whether a
// contact is in the user's roster. *roster.Module has it.
type Roster interface {
	Item(ctx context.Context, user, contact jid.JID) (store.RosterItem, bool, error)
}

// Router is what queries need of the router; *router.Router has it.
type Router interface {
	DeliverPaced(ctx context.Context, full jid.JID, st *stanza.Stanza) bool
}

// Options are the archive's dependencies and settings. Zero values mean
// the documented defaults.
type Options struct {
	// Store keeps the archives and preferences (required).
	Store Store
	// Roster answers the "roster" default; nil makes it archive nothing.
	Roster Roster
	// DefaultMode is the archiving default for users who set no
	// preferences: store.ArchiveAlways (the default), ArchiveRoster or
	// ArchiveNever. SetDefaultMode changes it on a running server.
	DefaultMode string
	// Required is compliance mode (`[archive] required`): every message
	// with content is archived whatever the preferences say, and the
	// router delivers it only once archived (docs/design/06).
	Required bool
	// Limits bound what one query may cost; zero fields mean the
	// defaults.
	Limits Limits
	Log    *slog.Logger
}

// Module archives messages and answers queries.
type Module struct {
	store    Store
	roster   Roster // may be nil: "roster" then archives nothing
	required bool
	limits   Limits
	log      *slog.Logger
	now      func() time.Time // the clock, replaceable by tests
	router   Router           // set by Register

	mu          sync.Mutex                    // guards prefs and defaultMode
	prefs       map[string]store.ArchivePrefs // by username; read-through cache ("" Default: the server's)
	defaultMode string
}

var _ router.MessageObserver = (*Module)(nil)

// New returns the archive; install it with Register.
func New(o Options) *Module {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.DefaultMode == "" {
		o.DefaultMode = store.ArchiveAlways
	}
	return &Module{store: o.Store, roster: o.Roster, required: o.Required, limits: o.Limits, log: o.Log,
		now: time.Now, prefs: make(map[string]store.ArchivePrefs), defaultMode: o.DefaultMode}
}

// Register installs the IQ handler (queries, form, metadata, preferences)
// and the message observer, and keeps r to deliver query results.
func (m *Module) Register(r *router.Router) {
	m.router = r
	r.HandleIQ(NS, m.HandleIQ)
	r.ObserveMessages(m)
}

// SetDefaultMode changes the archiving default of users who set no
// preferences (a configuration reload); "" means store.ArchiveAlways.
func (m *Module) SetDefaultMode(mode string) {
	if mode == "" {
		mode = store.ArchiveAlways
	}
	m.mu.Lock()
	m.defaultMode = mode
	m.mu.Unlock()
}

// Features are the disco features of an account's archive (XEP-0313 §7),
// advertised on the account's bare JID.
// Retractions are archived, and turn what they retract into tombstones,
// so the archive also advertises XEP-0424 (§2: a server that archives
// retractions MUST), in both of its namespaces.
func Features() []string { return []string{NS, NSExtended, NSRetract, NSRetract0} }

// Forget drops a user's cached preferences when the account is removed
// (the store deletes the archive with the account).
func (m *Module) Forget(username string) {
	m.mu.Lock()
	delete(m.prefs, username)
	m.mu.Unlock()
}

// Outgoing archives the sender's copy of a message a local user sends,
// under a new stanza-id by the sender's bare JID, and returns the write.
func (m *Module) Outgoing(ctx context.Context, st *stanza.Stanza) router.Write {
	owner := st.From.Bare()
	// A message to oneself is archived once, as it arrives; one to the
	// server itself is not a conversation.
	if st.To.IsZero() || st.To.Bare() == owner || st.To.IsDomain() || !archivable(st) {
		return nil
	}
	m.retract(ctx, owner, st.To.Bare(), owner, st)
	if !m.required && !m.wants(ctx, owner, st.To) {
		return nil
	}
	id := stanza.NewID()
	c := st.Copy()
	c.El.Children = slices.Clone(st.El.Children)       // AddChild must not touch st's
	c.RemoveChildren(func(e *xmlstream.Element) bool { // a forged id claiming to be ours
		return router.IsStanzaIDBy(e, owner)
	})
	c.AddChild(xmlstream.New("stanza-id", router.NSStanzaID, "id", id, "by", owner.String()))
	return m.append(ctx, owner, id, st.To.Bare(), c)
}

// Incoming archives the recipient's copy under the router's stanza-id and
// returns the write.
func (m *Module) Incoming(ctx context.Context, st *stanza.Stanza, _ []router.Session) router.Write {
	owner := st.To.Bare()
	if st.From.IsZero() || owner.Local() == "" || !archivable(st) {
		return nil
	}
	m.retract(ctx, owner, st.From.Bare(), st.From.Bare(), st)
	id := stanzaID(st.El, owner.String())
	if id == "" || (!m.required && !m.wants(ctx, owner, st.From)) {
		return nil
	}
	return m.append(ctx, owner, id, st.From.Bare(), st)
}

// append queues one message for the archive and returns the commit, which
// the router hands to the sending session (docs/design/06): it waits for
// it before it acknowledges the message (XEP-0198), not before it routes
// the next one, so the commits of many messages share a transaction. In
// compliance mode the router waits before delivering. A query first waits
// for every queued append (SyncArchive), so whatever was delivered before
// it is in its answer.
func (m *Module) append(ctx context.Context, owner jid.JID, id string, with jid.JID, st *stanza.Stanza) router.Write {
	msg := store.ArchivedMessage{
		Owner:  owner.Local(),
		ID:     id,
		With:   with.String(),
		Stamp:  m.now(),
		Stanza: xmlstream.Append(nil, st.El), // declares xmlns='jabber:client'
		Text:   SearchText(st.El),
	}
	return m.store.QueueArchive(ctx, []store.ArchivedMessage{msg})
}

// stanzaID returns the XEP-0359 stanza-id stamped by 'by', the last one.
func stanzaID(el *xmlstream.Element, by string) string {
	id := ""
	for _, c := range el.Children {
		if c.Name == "stanza-id" && c.Space == router.NSStanzaID && c.Get("by") == by {
			id = c.Get("id")
		}
	}
	return id
}

// SearchText is the text full-text search indexes: every <body/> (one per
// xml:lang).
func SearchText(el *xmlstream.Element) string {
	var parts []string
	for _, c := range el.Children {
		if c.Name == "body" && isClient(c.Space) && c.Text != "" {
			parts = append(parts, c.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func isClient(space string) bool { return space == stanza.NSClient || space == stanza.NSServer }

// archivable says whether a message is worth keeping (XEP-0313 §3:
// "messages that hold meaningful content, rather than state changes such
// as Chat State Notifications").
//
//   - never errors, headlines, or groupchat (the room archives those);
//   - XEP-0334: <no-store/> and <no-permanent-store/> exclude, <store/>
//     includes whatever else it carries;
//   - a <body/> (which includes XEP-0308 corrections) is kept;
//   - without a body: XEP-0424 retractions and XEP-0444 reactions are kept
//     (they change archived content, and a device that syncs from the
//     archive must see them), as are encrypted payloads (OMEMO) and
//     XEP-0333 <displayed/> markers, which clients sync read state with;
//   - chat states (XEP-0085), delivery receipts (XEP-0184) and the
//     received/acknowledged markers alone are state changes: not kept
//     unless hinted.
func archivable(st *stanza.Stanza) bool {
	switch st.Type {
	case "", "normal", "chat":
	default:
		return false
	}
	return HasContent(st.El)
}

// HasContent applies the content rules of archivable to a message of any
// type: a room archives groupchat messages by the same rules.
func HasContent(msg *xmlstream.Element) bool {
	store, noStore := hints.Storage(msg)
	if noStore {
		return false
	}
	for _, c := range msg.Children {
		switch {
		case c.Name == "body" && isClient(c.Space),
			c.Name == "retract" && (c.Space == NSRetract || c.Space == NSRetract0),
			c.Name == "apply-to" && c.Space == NSFasten && c.Child("retract", NSRetract0) != nil,
			c.Name == "reactions" && c.Space == NSReaction,
			c.Name == "encrypted" && (c.Space == NSOMEMO || c.Space == NSOMEMO2),
			c.Name == "displayed" && c.Space == NSMarkers:
			return true
		}
	}
	return store
}

// errForbidden answers a query for someone else's archive.
var errForbidden = stanza.ErrForbidden.WithText("only the account's own archive can be queried")

// ownArchive checks that an IQ addresses the sender's own account
// (XEP-0313 §4: the archive of a user is at the user's bare JID).
func ownArchive(iq *stanza.Stanza) error {
	if !iq.To.IsZero() && iq.To != iq.From.Bare() {
		return errForbidden
	}
	if iq.From.Local() == "" {
		return stanza.ErrForbidden
	}
	return nil
}

// storeErr maps a storage error to the stanza error a client gets.
func storeErr(err error, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return stanza.ErrItemNotFound.WithText(what)
	}
	return err
}
