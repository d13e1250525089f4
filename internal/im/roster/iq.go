package roster

import (
	"context"
	"slices"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// HandleIQ is the router.IQHandler for jabber:iq:roster.
func (m *Module) HandleIQ(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	// RFC 6121 §2.1.5, §2.3.3: only the user's own sessions may read or
	// change a roster. The router passes IQs to a bare JID from anyone.
	if iq.From.Local() == "" || (!iq.To.IsZero() && iq.To != iq.From.Bare()) {
		return nil, stanza.ErrForbidden
	}
	q := iq.Payload()
	if q == nil || q.Name != "query" {
		return nil, stanza.ErrBadRequest
	}
	if iq.Type == "get" {
		return m.get(ctx, iq.From, q)
	}
	return nil, m.set(ctx, iq.From, q)
}

// get answers a roster get (RFC 6121 §2.1.3) with versioning (§2.6.3).
func (m *Module) get(ctx context.Context, from jid.JID, q *xmlstream.Element) (*xmlstream.Element, error) {
	// Mark the session before reading, so that any change made after the
	// read below is pushed to it (§2.1.6: interested resources).
	if !from.IsBare() {
		m.router.SetInterested(from)
	}
	e, err := m.lock(ctx, from)
	if err != nil {
		return nil, err
	}
	defer e.mu.Unlock()
	ver, versioned := attr(q, "ver")
	cur := m.version(from, e)
	if versioned && ver == cur {
		// §2.6.3: the client's cache is current: an empty result, and any
		// later change arrives as a push.
		return nil, nil
	}
	out := xmlstream.New("query", NS)
	if versioned {
		out.Attr = append(out.Attr, xmlstream.Attr{Name: "ver", Value: cur})
	}
	for _, it := range m.merged(from, e) {
		if !it.Hidden { // §3.1.3: a pending request creates no visible item
			out.Children = append(out.Children, itemElement(it))
		}
	}
	return out, nil
}

// set adds, updates (RFC 6121 §2.3, §2.4) or removes (§2.5) one item.
func (m *Module) set(ctx context.Context, from jid.JID, q *xmlstream.Element) error {
	// §2.3.3: exactly one <item/>.
	if len(q.Children) != 1 || q.Children[0].Name != "item" || q.Children[0].Space != NS {
		return stanza.ErrBadRequest.WithText("a roster set carries exactly one item")
	}
	item := q.Children[0]
	contact, err := jid.Parse(item.Get("jid"))
	if err != nil {
		return stanza.ErrJIDMalformed.WithText("bad 'jid' of roster item")
	}
	if !contact.IsBare() {
		return stanza.ErrBadRequest.WithText("roster items are bare JIDs")
	}
	// §2.1.2.5: any 'subscription' value other than "remove" is ignored,
	// as are 'ask' and 'approved': only presence changes those.
	if item.Get("subscription") == "remove" {
		return m.remove(ctx, from.Bare(), contact)
	}
	name, groups, err := m.parseItem(item)
	if err != nil {
		return err
	}
	_, err = m.modify(ctx, from.Bare(), contact, func(e *entry, it *store.RosterItem, exists bool) (bool, error) {
		if (!exists || it.Hidden) && e.visible() >= m.limits.MaxItems {
			return false, stanza.ErrNotAllowed.WithText("roster is full")
		}
		// §2.4.1: an item is atomic and replaced exactly as given.
		it.Name, it.Groups, it.Hidden = name, groups, false
		return true, nil
	})
	return err
}

// parseItem checks the handle and groups of a roster set (§2.3.3).
func (m *Module) parseItem(item *xmlstream.Element) (string, []string, error) {
	name := item.Get("name")
	if len(name) > m.limits.MaxNameLen {
		return "", nil, stanza.ErrNotAcceptable.WithText("name too long")
	}
	var groups []string
	for _, c := range item.Children {
		if c.Name != "group" || c.Space != NS {
			continue
		}
		switch {
		case c.Text == "":
			return "", nil, stanza.ErrNotAcceptable.WithText("empty group")
		case len(c.Text) > m.limits.MaxGroupLen:
			return "", nil, stanza.ErrNotAcceptable.WithText("group name too long")
		case slices.Contains(groups, c.Text):
			return "", nil, stanza.ErrBadRequest.WithText("duplicate group")
		}
		groups = append(groups, c.Text)
	}
	if len(groups) > m.limits.MaxGroups {
		return "", nil, stanza.ErrNotAcceptable.WithText("too many groups")
	}
	slices.Sort(groups)
	return name, groups, nil
}

// remove deletes an item and cancels the subscriptions it held
// (RFC 6121 §2.5.2).
func (m *Module) remove(ctx context.Context, user, contact jid.JID) error {
	ch, err := m.modify(ctx, user, contact, func(_ *entry, it *store.RosterItem, exists bool) (bool, error) {
		if _, shared := m.shared(user)[it.JID]; shared && (!exists || it.Hidden) {
			// Shared groups are the directory's, not the user's.
			return false, stanza.ErrNotAllowed.WithText("the contact is in a shared group")
		}
		if !exists || it.Hidden {
			return false, stanza.ErrItemNotFound // §2.5.3
		}
		*it = store.RosterItem{JID: it.JID, Subscription: store.SubNone, Hidden: true}
		return true, nil
	})
	if err != nil {
		return err
	}
	// Presence leaves after the lock is released: routing to a local
	// contact runs its side of the state machine, which locks its roster.
	b := ch.Before
	from := b.Subscription == store.SubFrom || b.Subscription == store.SubBoth
	if from {
		// §3.2.2: the contact stops receiving presence, so it must learn
		// that the user's resources are gone from its view.
		for _, res := range m.router.Resources(user) {
			if res.Available {
				m.router.Send(ctx, stanza.New(stanza.Presence, res.Session.JID(), contact, "unavailable", ""))
			}
		}
	}
	if from || b.PendingIn {
		m.router.Send(ctx, stanza.New(stanza.Presence, user, contact, "unsubscribed", ""))
	}
	if b.Subscription == store.SubTo || b.Subscription == store.SubBoth || b.AskOut {
		m.router.Send(ctx, stanza.New(stanza.Presence, user, contact, "unsubscribe", ""))
	}
	return nil
}

// visible counts the items the client sees.
func (e *entry) visible() int {
	n := 0
	for _, it := range e.items {
		if !it.Hidden {
			n++
		}
	}
	return n
}

// attr returns an attribute and whether it is present at all: a roster get
// with ver="" asks for versioning, one without 'ver' does not (§2.6.2).
func attr(el *xmlstream.Element, name string) (string, bool) {
	for _, a := range el.Attr {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}
