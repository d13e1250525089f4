package vcard

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"

	"parley/internal/im/pep"
	"parley/internal/im/pubsub"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Namespaces of the conversion between vcard-temp photos and XEP-0084
// avatars (XEP-0398).
const (
	NSConversion     = "urn:xmpp:pep-vcard-conversion:0"
	NSAvatarData     = "urn:xmpp:avatar:data"
	NSAvatarMetadata = "urn:xmpp:avatar:metadata"
	NSUpdate         = "vcard-temp:x:update"
)

// PEP is what the conversion needs of the PEP service; *pep.Module has
// it.
type PEP interface {
	Publish(ctx context.Context, own jid.JID, node, id string, payload []byte, config pubsub.Config) error
	Items(ctx context.Context, own jid.JID, node string, ids ...string) ([]store.PEPItem, error)
	OnPublish(node string, f pep.PublishHook)
}

// avatarNode is how the conversion makes the avatar nodes when the
// account has none: XEP-0163 §4.2's defaults (presence access, one item).
var avatarNode = pubsub.Config{AccessModel: pubsub.AccessPresence, PersistItems: true, MaxItems: 1,
	PublishModel: pubsub.PublishPublishers}

// hashes caches each account's photo hash (hex SHA-1 of the vCard's
// PHOTO, "" for none) for presence (XEP-0398 §4); an entry goes when
// its account's last session ends.
type hashes struct {
	mu sync.Mutex // guards m
	m  map[string]string
}

func (h *hashes) get(user string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[user]
	return v, ok
}

func (h *hashes) put(user, hash string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.m[user] = hash
}

func (h *hashes) drop(user string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, user)
}

// registerConversion installs the XEP-0398 parts: the avatar metadata
// hook (PEP to vCard, §3.1) and the presence hash (§4).
func (m *Module) registerConversion(r *router.Router) {
	m.pep.OnPublish(NSAvatarMetadata, m.fromAvatar)
	r.InterceptOutbound(m.injectHash)
	r.OnLastSessionEnded(func(_ context.Context, user jid.JID) { m.hashes.drop(user.Local()) })
}

// photo is the image of a vCard's PHOTO: its bytes and type; nil when it
// has none (or only an EXTVAL, an external URL).
func photo(vc *xmlstream.Element) ([]byte, string) {
	p := vc.Child("PHOTO", NS)
	if p == nil {
		return nil, ""
	}
	b, err := base64.StdEncoding.DecodeString(stripSpace(p.ChildText("BINVAL", NS)))
	if err != nil || len(b) == 0 {
		return nil, ""
	}
	return b, strings.TrimSpace(p.ChildText("TYPE", NS))
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
}

func sha1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}

// toAvatar publishes a vCard's photo as the account's XEP-0084 avatar
// (XEP-0398 §3.2): the data item, whose id is the image's SHA-1, then
// the metadata with the vCard's type. A photo already published is not
// published again; a vCard without a photo leaves the avatar alone.
func (m *Module) toAvatar(ctx context.Context, own jid.JID, vc *xmlstream.Element) {
	img, typ := photo(vc)
	if img == nil {
		m.hashes.put(own.Local(), "")
		return
	}
	id := sha1Hex(img)
	m.hashes.put(own.Local(), id)
	if cur, err := m.pep.Items(ctx, own, NSAvatarMetadata); err == nil && len(cur) > 0 && cur[len(cur)-1].ID == id {
		return
	}
	if typ == "" {
		typ = "image/png"
	}
	data := xmlstream.Append(nil, xmlstream.NewText("data", NSAvatarData, base64.StdEncoding.EncodeToString(img)))
	if err := m.pep.Publish(ctx, own, NSAvatarData, id, data, avatarNode); err != nil {
		m.log.Info("vcard: photo not published as avatar data", "jid", own.String(), "err", err)
		return
	}
	meta := xmlstream.Append(nil, xmlstream.New("metadata", NSAvatarMetadata).Add(
		xmlstream.New("info", NSAvatarMetadata, "bytes", strconv.Itoa(len(img)), "id", id, "type", typ)))
	if err := m.pep.Publish(ctx, own, NSAvatarMetadata, id, meta, avatarNode); err != nil {
		m.log.Info("vcard: photo not published as avatar metadata", "jid", own.String(), "err", err)
	}
}

// fromAvatar stores a published XEP-0084 avatar as the vCard's photo
// (XEP-0398 §3.1): the info without a url names the data item, whose
// image must hash to its id; metadata without info (the avatar turned
// off, XEP-0084 §4.5) removes the photo.
func (m *Module) fromAvatar(ctx context.Context, own jid.JID, _ string, payload []byte) {
	meta, err := xmlstream.Parse(payload, xmlstream.Limits{})
	if err != nil || meta.Name != "metadata" || meta.Space != NSAvatarMetadata {
		return
	}
	var info *xmlstream.Element
	for _, c := range meta.Children {
		if c.Name == "info" && c.Space == NSAvatarMetadata && c.Get("url") == "" && c.Get("id") != "" {
			info = c
			break
		}
	}
	var newPhoto *xmlstream.Element
	hash := ""
	if info != nil {
		items, err := m.pep.Items(ctx, own, NSAvatarData, info.Get("id"))
		if err != nil || len(items) == 0 {
			return // no data under that id
		}
		d, err := xmlstream.Parse(items[0].Payload, xmlstream.Limits{})
		if err != nil || d.Name != "data" || d.Space != NSAvatarData {
			return
		}
		img, err := base64.StdEncoding.DecodeString(stripSpace(d.Text))
		if err != nil || sha1Hex(img) != info.Get("id") {
			m.log.Info("vcard: avatar data does not hash to its id", "jid", own.String(), "id", info.Get("id"))
			return
		}
		newPhoto = xmlstream.New("PHOTO", NS).Add(
			xmlstream.NewText("TYPE", NS, info.Get("type")),
			xmlstream.NewText("BINVAL", NS, base64.StdEncoding.EncodeToString(img)))
		hash = info.Get("id")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	vc, err := m.load(ctx, own.Local())
	if err != nil {
		m.log.Error("vcard: read for the avatar", "jid", own.String(), "err", err)
		return
	}
	out := xmlstream.New("vCard", NS)
	out.Attr = append(out.Attr, vc.Attr...)
	for _, c := range vc.Children {
		if !(c.Name == "PHOTO" && c.Space == NS) {
			out.Add(c)
		}
	}
	if newPhoto != nil {
		out.Add(newPhoto)
	}
	raw := xmlstream.Append(nil, out)
	if len(raw) > m.maxSize {
		m.log.Info("vcard: avatar too large for the vCard", "jid", own.String(), "bytes", len(raw))
		return
	}
	if err := m.store.SetVCard(ctx, own.Local(), raw); err != nil {
		m.log.Error("vcard: store the avatar", "jid", own.String(), "err", err)
		return
	}
	m.hashes.put(own.Local(), hash)
}

// load returns a user's vCard, an empty one if there is none.
func (m *Module) load(ctx context.Context, user string) (*xmlstream.Element, error) {
	raw, err := m.store.VCard(ctx, user)
	if errors.Is(err, store.ErrNotFound) {
		return xmlstream.New("vCard", NS), nil
	}
	if err != nil {
		return nil, err
	}
	el, err := xmlstream.Parse(raw, xmlstream.Limits{})
	if err != nil || el.Name != "vCard" || el.Space != NS {
		return xmlstream.New("vCard", NS), nil // a damaged row is replaced
	}
	return el, nil
}

// hashOf is a user's photo hash, read from the vCard once and cached.
func (m *Module) hashOf(ctx context.Context, user string) (string, error) {
	if h, ok := m.hashes.get(user); ok {
		return h, nil
	}
	vc, err := m.load(ctx, user)
	if err != nil {
		return "", err
	}
	h := ""
	if img, _ := photo(vc); img != nil {
		h = sha1Hex(img)
	}
	m.hashes.put(user, h)
	return h, nil
}

// injectHash adds the account's photo hash to its available presence
// (XEP-0398 §4): unless the client sent a <photo/> itself (empty: it
// has no avatar ready, which is left alone; a hash: its own), an
// <x xmlns='vcard-temp:x:update'/> with the hash is put in, replacing
// one without a photo. Directed presence (a MUC join) gets it too.
func (m *Module) injectHash(ctx context.Context, st *stanza.Stanza) error {
	if st.Kind != stanza.Presence || st.Type != "" || st.From.Local() == "" {
		return nil
	}
	x := st.El.Child("x", NSUpdate)
	if x != nil && x.Child("photo", NSUpdate) != nil {
		return nil
	}
	h, err := m.hashOf(ctx, st.From.Local())
	if err != nil || h == "" {
		return nil // a presence is never held up by the vCard
	}
	if x != nil {
		kept := st.El.Children[:0]
		for _, c := range st.El.Children {
			if c != x {
				kept = append(kept, c)
			}
		}
		st.El.Children = kept
	}
	st.El.Add(xmlstream.New("x", NSUpdate).Add(xmlstream.NewText("photo", NSUpdate, h)))
	return nil
}
