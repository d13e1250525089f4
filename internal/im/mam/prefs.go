package mam

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// loadPrefs returns a user's preferences, cached after the first read.
func (m *Module) loadPrefs(ctx context.Context, owner jid.JID) (store.ArchivePrefs, error) {
	user := owner.Local()
	m.mu.Lock()
	p, ok := m.prefs[user]
	def := m.defaultMode
	m.mu.Unlock()
	if !ok {
		var err error
		p, err = m.store.ArchivePrefs(ctx, user)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Until a user sets preferences the server's default applies
			// (XEP-0441 §2.1 leaves it to the server); cached as "", so
			// a changed default applies at once.
			p = store.ArchivePrefs{}
		case err != nil:
			return store.ArchivePrefs{}, err
		}
		m.mu.Lock()
		m.prefs[user] = p
		m.mu.Unlock()
	}
	if p.Default == "" {
		p.Default = def
	}
	return p, nil
}

// wants applies owner's preferences to a message exchanged with peer
// (XEP-0441 §2: the <never/> list, then <always/>, then the default).
func (m *Module) wants(ctx context.Context, owner, peer jid.JID) bool {
	p, err := m.loadPrefs(ctx, owner)
	if err != nil {
		m.log.Error("archive preferences unavailable; archiving", "jid", owner.String(), "err", err)
		return true // losing history is worse than keeping one message
	}
	listed := func(list []string) bool {
		return slices.Contains(list, peer.String()) || slices.Contains(list, peer.Bare().String())
	}
	switch {
	case listed(p.Never):
		return false
	case listed(p.Always):
		return true
	case p.Default == store.ArchiveNever:
		return false
	case p.Default == store.ArchiveRoster:
		if m.roster == nil {
			return false
		}
		it, ok, err := m.roster.Item(ctx, owner, peer.Bare())
		if err != nil {
			m.log.Error("roster lookup for archiving failed; archiving", "jid", owner.String(), "err", err)
			return true
		}
		return ok && !it.Hidden
	}
	return true
}

// handlePrefs answers <prefs/> get and set (XEP-0441 §2).
func (m *Module) handlePrefs(ctx context.Context, iq *stanza.Stanza, q *xmlstream.Element) (*xmlstream.Element, error) {
	owner := iq.From.Bare()
	if iq.Type == "get" {
		p, err := m.loadPrefs(ctx, owner)
		if err != nil {
			return nil, err
		}
		return prefsElement(p), nil
	}
	p := store.ArchivePrefs{Default: q.Get("default")}
	switch p.Default {
	case store.ArchiveAlways, store.ArchiveNever, store.ArchiveRoster:
	default:
		return nil, stanza.ErrBadRequest.WithText("default must be always, never or roster")
	}
	for _, list := range []struct {
		name string
		dst  *[]string
	}{{"always", &p.Always}, {"never", &p.Never}} {
		el := q.Child(list.name, NS)
		if el == nil {
			continue
		}
		for _, j := range el.Children {
			if j.Name != "jid" || j.Space != NS {
				continue
			}
			parsed, err := jid.Parse(j.Text)
			if err != nil {
				return nil, stanza.ErrJIDMalformed.WithText(fmt.Sprintf("bad JID %q in <%s/>", j.Text, list.name))
			}
			*list.dst = append(*list.dst, parsed.String())
		}
		slices.Sort(*list.dst)
		*list.dst = slices.Compact(*list.dst)
	}
	if err := m.store.SetArchivePrefs(ctx, owner.Local(), p); err != nil {
		return nil, fmt.Errorf("mam: set preferences of %s: %w", owner, err)
	}
	m.mu.Lock()
	m.prefs[owner.Local()] = p
	m.mu.Unlock()
	return prefsElement(p), nil
}

func prefsElement(p store.ArchivePrefs) *xmlstream.Element {
	el := xmlstream.New("prefs", NS, "default", p.Default)
	for _, list := range []struct {
		name string
		jids []string
	}{{"always", p.Always}, {"never", p.Never}} {
		l := xmlstream.New(list.name, NS)
		for _, j := range list.jids {
			l.Add(xmlstream.NewText("jid", NS, j))
		}
		el.Add(l)
	}
	return el
}
