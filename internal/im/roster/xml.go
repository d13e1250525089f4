package roster

import (
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// itemElement is the client's view of an item (RFC 6121 §2.1.2): pending
// inbound state is never shown, 'ask' only for pending outbound (§2.1.2.2),
// 'approved' only when true (§2.1.2.1).
func itemElement(it store.RosterItem) *xmlstream.Element {
	el := xmlstream.New("item", NS, "jid", it.JID)
	if it.Name != "" {
		el.Attr = append(el.Attr, xmlstream.Attr{Name: "name", Value: it.Name})
	}
	el.Attr = append(el.Attr, xmlstream.Attr{Name: "subscription", Value: it.Subscription})
	if it.AskOut {
		el.Attr = append(el.Attr, xmlstream.Attr{Name: "ask", Value: "subscribe"})
	}
	if it.PreApproved {
		el.Attr = append(el.Attr, xmlstream.Attr{Name: "approved", Value: "true"})
	}
	for _, g := range it.Groups {
		el.Children = append(el.Children, xmlstream.NewText("group", NS, g))
	}
	return el
}

// removedElement is the pushed form of a deleted item (RFC 6121 §2.5.2).
func removedElement(contact string) *xmlstream.Element {
	return xmlstream.New("item", NS, "jid", contact, "subscription", "remove")
}

// push sends a roster push to every interested resource of the user
// (RFC 6121 §2.1.6), each with its own id, carrying the new version
// (§2.6.3). Pushes have no 'from': they come from the user's account.
func (m *Module) push(user jid.JID, ver string, item *xmlstream.Element) {
	for _, res := range m.router.Resources(user.Bare()) {
		if !res.Interested {
			continue
		}
		to := res.Session.JID()
		iq := stanza.New(stanza.IQ, jid.JID{}, to, "set", "push-"+stanza.NewID())
		iq.El.Add(xmlstream.New("query", NS, "ver", ver).Add(item))
		m.router.DeliverTo(to, iq)
	}
}
