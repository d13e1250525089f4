package pubsub

import (
	"context"

	"parley/internal/dataform"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// owner serves pubsub#owner (§8): configure, default, delete, purge,
// subscriptions and affiliations management, by the node's owners.
func (m *Module) owner(ctx context.Context, iq *stanza.Stanza, p *xmlstream.Element, deferred *[]*stanza.Stanza) (*xmlstream.Element, error) {
	a := Action(p, NSOwner)
	if a == nil {
		return nil, stanza.ErrBadRequest.WithText("no pubsub#owner action")
	}
	if a.Name == "default" && iq.Type == "get" { // §8.3
		return xmlstream.New("pubsub", NSOwner).Add(xmlstream.New("default", NSOwner).Add(defaultConfig().Form("form"))), nil
	}
	name := a.Get("node")
	if name == "" {
		return nil, ErrNodeRequired
	}
	defer m.lockNode(name).Unlock()
	n, err := m.load(ctx, name)
	if err != nil {
		return nil, err
	}
	if n.affiliation(iq.From) != store.AffiliationOwner {
		return nil, stanza.ErrForbidden.WithText("only the node's owners may do this")
	}
	switch {
	case a.Name == "configure" && iq.Type == "get": // §8.2
		return xmlstream.New("pubsub", NSOwner).Add(xmlstream.New("configure", NSOwner, "node", name).Add(n.Form("form"))), nil
	case a.Name == "configure" && iq.Type == "set":
		x := a.Child("x", dataform.NS)
		if x == nil {
			return nil, stanza.ErrBadRequest.WithText("expected a node_config form")
		}
		if x.Get("type") == "cancel" { // §8.2.5
			return nil, nil
		}
		if err := n.Apply(x, NSNodeConfig, m.limits.NodeItems); err != nil {
			return nil, err
		}
		if err := m.save(ctx, n); err != nil {
			return nil, err
		}
		if n.NotifiesConfig() { // §8.2.4: with the new configuration (pubsub#deliver_payloads)
			m.notify(ctx, n, ConfigurationEvent(name, n.Config))
		}
		return nil, nil
	case a.Name == "delete" && iq.Type == "set": // §8.4
		subs, err := m.Store.PubSubSubscriptions(ctx, m.Addr.String(), name)
		if err != nil {
			return nil, err
		}
		if err := m.Store.DeletePubSubNode(ctx, m.Addr.String(), name); err != nil {
			return nil, err
		}
		if n.NotifiesDelete() {
			*deferred = append(*deferred, m.events(subs, xmlstream.New("delete", NSEvent, "node", name))...)
		}
		return nil, nil
	case a.Name == "purge" && iq.Type == "set": // §8.5
		if !n.PersistItems {
			return nil, Unsupported("persistent-items")
		}
		if err := m.Store.PurgePubSubNode(ctx, m.Addr.String(), name); err != nil {
			return nil, err
		}
		m.notify(ctx, n, xmlstream.New("purge", NSEvent, "node", name))
		return nil, nil
	case a.Name == "subscriptions" && iq.Type == "get": // §8.8.1
		return m.NodeSubscriptions(ctx, name)
	case a.Name == "subscriptions" && iq.Type == "set": // §8.8.2
		told, err := m.SetSubscriptions(ctx, name, a)
		*deferred = append(*deferred, told...)
		return nil, err
	case a.Name == "affiliations" && iq.Type == "get": // §8.9.1
		return m.NodeAffiliations(ctx, name, nil)
	case a.Name == "affiliations" && iq.Type == "set": // §8.9.2
		return nil, m.SetAffiliations(ctx, name, n.affs, a)
	}
	return nil, Unsupported(a.Name)
}
