package mam

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Namespaces of the metadata a tombstone keeps.
const (
	NSOccupantID = "urn:xmpp:occupant-id:0"
	NSModerate   = "urn:xmpp:message-moderate:1"
)

// retractWindow is how many of the newest messages of a conversation a
// sender's retraction looks through for the message it retracts: the
// retraction names it by the id the sender's client gave it (XEP-0424
// §3), which the archive does not index. A retraction of an older message
// is archived, and that message stays as it was.
const retractWindow = 500

// retractPage is the page size of that search, small because archived
// stanzas may be large.
const retractPage = 25

// archivedLimits parse an archived stanza: one that passed the stream's
// limits, grown by the stanza-id the server added.
var archivedLimits = xmlstream.Limits{MaxStanza: 2 * xmlstream.DefaultMaxStanza}

// Tombstone returns what the archive keeps of a retracted or moderated
// message (XEP-0424 §5, XEP-0425 §4): the original <message/> with its
// attributes (from, to, type, id) and its metadata (XEP-0359 stanza-id
// and origin-id, XEP-0421 occupant-id, XEP-0203 delay), and retracted in
// place of everything else (body, subject, thread and every payload,
// which could leak what was retracted). retracted is the marker:
// <retracted xmlns='urn:xmpp:message-retract:1' stamp='…'/>, with a
// XEP-0425 <moderated/> inside for a moderation.
func Tombstone(original []byte, retracted *xmlstream.Element) ([]byte, error) {
	el, err := xmlstream.Parse(original, archivedLimits)
	if err != nil {
		return nil, fmt.Errorf("mam: tombstone: archived stanza: %w", err)
	}
	tomb := &xmlstream.Element{Name: el.Name, Space: el.Space, Attr: el.Attr}
	for _, c := range el.Children {
		switch {
		case c.Space == router.NSStanzaID && (c.Name == "stanza-id" || c.Name == "origin-id"),
			c.Space == NSOccupantID && c.Name == "occupant-id",
			c.Space == NSDelay && c.Name == "delay":
			tomb.Add(c)
		}
	}
	tomb.Add(retracted)
	return xmlstream.Append(nil, tomb), nil
}

// RetractArchived replaces owner's archived message id with its
// tombstone (see Tombstone); store.ErrNotFound if owner has no message
// id. A room's moderation (XEP-0425) uses it with the room's stanza-id.
func RetractArchived(ctx context.Context, s Store, owner, id string, retracted *xmlstream.Element) error {
	p, err := s.QueryArchive(ctx, owner, store.ArchiveQuery{IDs: []string{id}, Limit: 1})
	if err != nil {
		return err
	}
	if len(p.Messages) == 0 {
		return fmt.Errorf("mam: retract %q of %s: %w", id, owner, store.ErrNotFound)
	}
	tomb, err := Tombstone(p.Messages[0].Stanza, retracted)
	if err != nil {
		return err
	}
	return s.RetractArchived(ctx, owner, id, tomb)
}

// RetractedID returns the id of the message a XEP-0424 retraction
// retracts, and the namespace it used ("" when el retracts nothing):
// <retract id='…' xmlns='urn:xmpp:message-retract:1'/>, or the earlier
// form fastened to it, <apply-to id='…' xmlns='urn:xmpp:fasten:0'>
// <retract xmlns='urn:xmpp:message-retract:0'/></apply-to>. Rooms read
// their occupants' retractions by it too.
func RetractedID(el *xmlstream.Element) (id, ns string) {
	if r := el.Child("retract", NSRetract); r != nil && r.Get("id") != "" {
		return r.Get("id"), NSRetract
	}
	if a := el.Child("apply-to", NSFasten); a != nil && a.Get("id") != "" && a.Child("retract", NSRetract0) != nil {
		return a.Get("id"), NSRetract0
	}
	return "", ""
}

// retract applies a sender's retraction to owner's archive: the message
// of the conversation with peer that sender sent under the retracted id
// (its origin-id, or its id attribute) becomes a tombstone. XEP-0424 §7:
// a retraction counts only from the bare JID that sent the message, so
// nobody retracts another's words. The retraction itself is archived as
// any message (XEP-0424 §7: clients catching up must see it).
func (m *Module) retract(ctx context.Context, owner, peer, sender jid.JID, st *stanza.Stanza) {
	id, ns := RetractedID(st.El)
	if id == "" {
		return
	}
	// The retracted message may still be on its way to the store.
	if err := m.store.SyncArchive(ctx); err != nil {
		m.log.Error("archive retraction failed", "jid", owner.String(), "err", err)
		return
	}
	target, err := m.findSent(ctx, owner.Local(), peer, sender, id)
	if err != nil || target == "" {
		if err != nil {
			m.log.Error("archive retraction failed", "jid", owner.String(), "err", err)
		}
		return
	}
	marker := xmlstream.New("retracted", ns, "stamp", stamp(m.now()))
	if ns == NSRetract0 {
		marker.Attr = append(marker.Attr, xmlstream.Attr{Name: "by", Value: sender.String()})
	}
	if err := RetractArchived(ctx, m.store, owner.Local(), target, marker); err != nil {
		m.log.Error("archive retraction failed", "jid", owner.String(), "err", err)
	}
}

// findSent returns the archive id of the message that sender sent under
// the client id id, among the newest retractWindow messages of owner's
// conversation with peer; "" if there is none.
func (m *Module) findSent(ctx context.Context, owner string, peer, sender jid.JID, id string) (string, error) {
	q := store.ArchiveQuery{With: peer.String(), Last: true, Limit: retractPage}
	// An id with no character that XML escapes appears verbatim in the
	// stanza, which spares parsing the messages that cannot be it.
	quick := !strings.ContainsAny(id, `<>&'"`)
	for seen := 0; seen < retractWindow; {
		p, err := m.store.QueryArchive(ctx, owner, q)
		if err != nil {
			return "", err
		}
		for i := len(p.Messages) - 1; i >= 0; i-- {
			msg := p.Messages[i]
			if quick && !bytes.Contains(msg.Stanza, []byte(id)) {
				continue
			}
			if sentAs(msg.Stanza, sender, id) {
				return msg.ID, nil
			}
		}
		seen += len(p.Messages)
		if p.Complete || len(p.Messages) == 0 {
			return "", nil
		}
		q.Last, q.Before = false, p.Messages[0].ID
	}
	return "", nil
}

// sentAs says whether an archived stanza is a message from sender's bare
// JID with the client id id (XEP-0359 origin-id, or the id attribute).
func sentAs(raw []byte, sender jid.JID, id string) bool {
	el, err := xmlstream.Parse(raw, archivedLimits)
	if err != nil {
		return false
	}
	from, err := jid.Parse(el.Get("from"))
	if err != nil || from.Bare() != sender.Bare() {
		return false
	}
	if o := el.Child("origin-id", router.NSStanzaID); o != nil {
		return o.Get("id") == id
	}
	return el.Get("id") == id
}
