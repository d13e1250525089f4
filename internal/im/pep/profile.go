package pep

import (
	"context"
	"errors"

	"parley/internal/im/pubsub"
	"parley/internal/jid"
	"parley/internal/store"
)

// Publishing on an account's behalf, for the server's conversions
// between profiles (XEP-0398 vcard-temp photo and XEP-0084 avatar,
// XEP-0402 bookmarks and private XML bookmarks).

// PublishHook is told of an item an account's client published.
type PublishHook func(ctx context.Context, own jid.JID, id string, payload []byte)

// OnPublish calls f after each publish to node by the account's own
// client (not after Publish), outside the service's locks, before the
// client's result. Set before use.
func (m *Module) OnPublish(node string, f PublishHook) {
	if m.hooks == nil {
		m.hooks = map[string][]PublishHook{}
	}
	m.hooks[node] = append(m.hooks[node], f)
}

// published runs the hooks of a client's publish.
func (m *Module) published(ctx context.Context, own jid.JID, node, id string, raw []byte) {
	for _, f := range m.hooks[node] {
		f(ctx, own, id, raw)
	}
}

// Publish publishes payload (one element, serialised with its namespace)
// as item id of own's node, making the node with config if there is none
// (an existing node keeps its configuration), within the item size and
// the account's quotas, and notifies as a client's publish does.
func (m *Module) Publish(ctx context.Context, own jid.JID, node, id string, payload []byte, config pubsub.Config) error {
	if err := m.limits.CheckItem(payload); err != nil {
		return err
	}
	return m.store1(ctx, own, node, id, payload, func(n *pepNode, created bool) error {
		if created {
			n.Config = config
			n.MaxItems = min(max(n.MaxItems, 1), m.limits.NodeItems)
		}
		return nil
	})
}

// Items returns own's items of node, oldest first (those of ids, or all);
// none for a node that does not exist.
func (m *Module) Items(ctx context.Context, own jid.JID, node string, ids ...string) ([]store.PEPItem, error) {
	items, err := m.store.PEPItems(ctx, own.Local(), node, ids, 0)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return items, err
}

// NodeConfig returns the configuration of own's node; ok is false when
// there is no such node.
func (m *Module) NodeConfig(ctx context.Context, own jid.JID, node string) (c pubsub.Config, ok bool, err error) {
	n, err := m.node(ctx, own, node)
	if errors.Is(err, pubsub.ErrNoNode) {
		return c, false, nil
	}
	return n.Config, err == nil, err
}

// Retract removes item id of own's node and notifies the retraction
// (XEP-0060 §7.2.2.1); nothing if there is no such item.
func (m *Module) Retract(ctx context.Context, own jid.JID, node, id string) error {
	defer m.lockOwner(own).Unlock()
	n, err := m.node(ctx, own, node)
	if errors.Is(err, pubsub.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	err = m.store.RetractPEPItem(ctx, own.Local(), node, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	m.notify(ctx, own, n, pubsub.RetractEvent(node, id))
	return nil
}
