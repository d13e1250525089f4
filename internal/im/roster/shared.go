package roster

import (
	"context"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"parley/internal/jid"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// SharedContact is a contact a user has through shared groups (a
// directory's groups, internal/directory): shown in the roster with
// subscription "both" in those groups, without being stored.
type SharedContact struct {
	Name   string   // the contact's display name, used when the user set none
	Groups []string // sorted
}

// Shared gives the contacts shared with a user, by contact bare JID. The
// map is read only; nil when the user shares none.
type Shared interface {
	SharedContacts(username string) map[string]SharedContact
}

// shared returns the user's shared contacts, nil without a source.
func (m *Module) shared(user jid.JID) map[string]SharedContact {
	if m.sharedSrc == nil {
		return nil
	}
	return m.sharedSrc.SharedContacts(user.Local())
}

// overlay is the item the user sees for a contact: the stored one (if
// any) with a shared contact laid over it: subscription both, groups
// joined, visible. ok is false when neither exists.
func overlay(it store.RosterItem, stored bool, sc SharedContact, shared bool) (store.RosterItem, bool) {
	if !shared {
		return it, stored
	}
	if !stored || it.Hidden {
		it = store.RosterItem{JID: it.JID, PendingIn: it.PendingIn, PendingInStanza: it.PendingInStanza}
	}
	it.Subscription, it.AskOut, it.Hidden = store.SubBoth, false, false
	if it.Name == "" {
		it.Name = sc.Name
	}
	groups := append(slices.Clone(it.Groups), sc.Groups...)
	slices.Sort(groups)
	it.Groups = slices.Compact(groups)
	return it, true
}

// merged returns every item of the user, stored and shared, sorted by JID.
func (m *Module) merged(user jid.JID, e *entry) []store.RosterItem {
	sh := m.shared(user)
	if len(sh) == 0 {
		return e.sorted()
	}
	out := make([]store.RosterItem, 0, len(e.items)+len(sh))
	for k, it := range e.items {
		sc, ok := sh[k]
		it, _ = overlay(clone(it), true, sc, ok)
		out = append(out, it)
	}
	for k, sc := range sh {
		if _, ok := e.items[k]; !ok {
			it, _ := overlay(store.RosterItem{JID: k}, false, sc, true)
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b store.RosterItem) int { return strings.Compare(a.JID, b.JID) })
	return out
}

// version is the roster version the client sees (RFC 6121 §2.6: an
// opaque string): the stored counter, and a digest of the shared contacts
// when there are any, so that a change of shared groups changes it too.
func (m *Module) version(user jid.JID, e *entry) string {
	v := strconv.FormatInt(e.version, 10)
	sh := m.shared(user)
	if len(sh) == 0 {
		return v
	}
	keys := make([]string, 0, len(sh))
	for k := range sh {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := fnv.New64a()
	for _, k := range keys {
		h.Write([]byte(k + "\x00" + sh[k].Name + "\x00" + strings.Join(sh[k].Groups, "\x00") + "\x01"))
	}
	return v + "-" + strconv.FormatUint(h.Sum64(), 36)
}

// SharedChanged pushes the user's items for contacts whose sharing
// changed (RFC 6121 §2.1.6) to the user's interested resources: the
// merged item, or its removal when nothing is left. A user without
// sessions is not touched: the next roster get reads the new state.
func (m *Module) SharedChanged(ctx context.Context, user jid.JID, contacts []jid.JID) error {
	if len(m.router.Resources(user.Bare())) == 0 {
		return nil
	}
	e, err := m.lock(ctx, user)
	if err != nil {
		return err
	}
	defer e.mu.Unlock()
	sh := m.shared(user)
	ver := m.version(user, e)
	for _, c := range contacts {
		key := c.Bare().String()
		it, stored := e.items[key]
		it.JID = key
		sc, ok := sh[key]
		if it, visible := overlay(clone(it), stored, sc, ok); visible && !it.Hidden {
			m.push(user, ver, itemElement(it))
		} else {
			m.push(user, ver, removedElement(key))
		}
	}
	return nil
}

// view is the pushed form of a stored item: the merged item if the
// contact is shared, else the stored one.
func (m *Module) view(user jid.JID, it store.RosterItem) *xmlstream.Element {
	if sc, ok := m.shared(user)[it.JID]; ok {
		it, _ = overlay(it, true, sc, true)
	}
	return itemElement(it)
}
