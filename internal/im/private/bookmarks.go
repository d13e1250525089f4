package private

import (
	"context"
	"log/slog"
	"strings"

	"parley/internal/im/pep"
	"parley/internal/im/pubsub"
	"parley/internal/jid"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Bookmarks kept in two places (XEP-0402 §5.3 Compatibility): clients of
// XEP-0048 keep a <storage xmlns='storage:bookmarks'/> in private XML,
// clients of XEP-0402 one PEP item per room in urn:xmpp:bookmarks:1.
// With Options.PEP the server unifies them and says so with
// FeatureCompat on accounts: a private XML set updates the PEP items
// (publishing new and changed rooms, retracting those gone, nothing for
// unchanged ones), and a private XML get is built from the PEP items
// (the jid attribute from each item id) once the node exists, keeping the
// URL bookmarks of the stored storage, which XEP-0402 does not hold.
//
// XEP-0411 (deprecated, still used by clients of XEP-0048 on PEP) keeps
// the same <storage/> as item "current" of the PEP node storage:bookmarks:
// a private XML set publishes it there (only to a node the account
// alone may read, §5), and a client's publish there is stored as the
// private XML, and unified with XEP-0402 as a private set is; the account
// advertises FeatureConversion.
const (
	NSBookmarks       = "storage:bookmarks"
	NSBookmarks2      = "urn:xmpp:bookmarks:1"
	FeatureCompat     = NSBookmarks2 + "#compat"
	FeatureConversion = "urn:xmpp:bookmarks-conversion:0"
)

// PEP is what the unification needs of the PEP service; *pep.Module has
// it.
type PEP interface {
	Publish(ctx context.Context, own jid.JID, node, id string, payload []byte, config pubsub.Config) error
	Items(ctx context.Context, own jid.JID, node string, ids ...string) ([]store.PEPItem, error)
	Retract(ctx context.Context, own jid.JID, node, id string) error
	NodeConfig(ctx context.Context, own jid.JID, node string) (pubsub.Config, bool, error)
	OnPublish(node string, f pep.PublishHook)
}

// bookmarksNode is XEP-0402 §3's node configuration: the owner alone,
// persistent, as many items as allowed (clamped by the service).
var bookmarksNode = pubsub.Config{AccessModel: pubsub.AccessWhitelist, PersistItems: true, MaxItems: 1 << 30,
	PublishModel: pubsub.PublishPublishers}

// room is one bookmarked room in either form.
type room struct {
	name, nick, password string
	autojoin             bool
}

func parseRoom(c *xmlstream.Element, space string) room {
	aj := strings.TrimSpace(c.Get("autojoin"))
	return room{name: c.Get("name"), nick: c.ChildText("nick", space), password: c.ChildText("password", space),
		autojoin: aj == "true" || aj == "1"}
}

func (r room) element(space string) *xmlstream.Element {
	c := xmlstream.New("conference", space)
	if r.name != "" {
		c.Set("name", r.name)
	}
	if r.autojoin {
		c.Set("autojoin", "true")
	}
	if r.nick != "" {
		c.Add(xmlstream.NewText("nick", space, r.nick))
	}
	if r.password != "" {
		c.Add(xmlstream.NewText("password", space, r.password))
	}
	return c
}

// bookmarksFromPEP builds the private XML storage from the PEP items,
// with the URL bookmarks of stored (which may be nil); ok is false when
// the account has no XEP-0402 node.
func (m *Module) bookmarksFromPEP(ctx context.Context, own jid.JID, stored *xmlstream.Element) (*xmlstream.Element, bool, error) {
	_, has, err := m.pep.NodeConfig(ctx, own, NSBookmarks2)
	if err != nil || !has {
		return nil, false, err
	}
	items, err := m.pep.Items(ctx, own, NSBookmarks2)
	if err != nil {
		return nil, false, err
	}
	out := xmlstream.New("storage", NSBookmarks)
	for _, it := range items {
		c, err := xmlstream.Parse(it.Payload, xmlstream.Limits{})
		if err != nil || c.Name != "conference" || c.Space != NSBookmarks2 {
			continue
		}
		el := parseRoom(c, NSBookmarks2).element(NSBookmarks)
		el.Set("jid", it.ID)
		out.Add(el)
	}
	if stored != nil {
		for _, c := range stored.Children {
			if c.Name == "url" && c.Space == NSBookmarks {
				out.Add(c)
			}
		}
	}
	return out, true, nil
}

// bookmarksToPEP brings the PEP items in line with a private XML storage
// (§5.3.2): new and changed rooms are published, rooms no longer listed
// retracted, unchanged ones left alone (no notification).
func (m *Module) bookmarksToPEP(ctx context.Context, own jid.JID, storage *xmlstream.Element) {
	items, err := m.pep.Items(ctx, own, NSBookmarks2)
	if err != nil {
		m.log.Error("private: bookmarks in PEP", "jid", own.String(), "err", err)
		return
	}
	have := map[string]room{}
	for _, it := range items {
		if c, err := xmlstream.Parse(it.Payload, xmlstream.Limits{}); err == nil && c.Name == "conference" && c.Space == NSBookmarks2 {
			have[it.ID] = parseRoom(c, NSBookmarks2)
		} else {
			have[it.ID] = room{name: "\x00"} // not a bookmark: replaced
		}
	}
	listed := map[string]bool{}
	for _, c := range storage.Children {
		if c.Name != "conference" || c.Space != NSBookmarks {
			continue
		}
		j, err := jid.Parse(c.Get("jid"))
		if err != nil || j.Local() == "" || !j.IsBare() {
			continue // XEP-0402 §3: the item id is the room's bare JID
		}
		id := j.String()
		listed[id] = true
		r := parseRoom(c, NSBookmarks)
		if old, ok := have[id]; ok && old == r {
			continue
		}
		if err := m.pep.Publish(ctx, own, NSBookmarks2, id, xmlstream.Append(nil, r.element(NSBookmarks2)), bookmarksNode); err != nil {
			m.log.Info("private: bookmark not published to PEP", "jid", own.String(), "room", id, "err", err)
		}
	}
	for id := range have {
		if !listed[id] {
			if err := m.pep.Retract(ctx, own, NSBookmarks2, id); err != nil {
				m.log.Info("private: bookmark not retracted from PEP", "jid", own.String(), "room", id, "err", err)
			}
		}
	}
}

// toLegacyPEP publishes a private XML storage as XEP-0411's PEP item,
// unless the node exists with an access model that lets others read it
// (§5: the account alone may).
func (m *Module) toLegacyPEP(ctx context.Context, own jid.JID, storage *xmlstream.Element) {
	c, ok, err := m.pep.NodeConfig(ctx, own, NSBookmarks)
	if err != nil || (ok && c.AccessModel != pubsub.AccessWhitelist) {
		m.log.Info("private: bookmarks not copied to a PEP node others may read", "jid", own.String(), "err", err)
		return
	}
	legacy := bookmarksNode
	legacy.MaxItems = 1
	if err := m.pep.Publish(ctx, own, NSBookmarks, "current", xmlstream.Append(nil, storage), legacy); err != nil {
		m.log.Info("private: bookmarks not published to PEP", "jid", own.String(), "err", err)
	}
}

// fromLegacyPEP stores a client's publish to XEP-0411's node as the
// private XML bookmarks (within the private XML limits), and unifies it
// with XEP-0402.
func (m *Module) fromLegacyPEP(ctx context.Context, own jid.JID, _ string, payload []byte) {
	storage, err := xmlstream.Parse(payload, xmlstream.Limits{})
	if err != nil || storage.Name != "storage" || storage.Space != NSBookmarks {
		return
	}
	q := xmlstream.New("query", NS).Add(storage)
	if err := m.set(ctx, own.Local(), q, false); err != nil {
		m.log.Info("private: bookmarks from PEP not stored", "jid", own.String(), "err", err)
	}
}

func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
