package pubsub

import (
	"context"
	"errors"
	"fmt"

	"parley/internal/jid"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Forget removes what a deleted account held at the service: its
// subscriptions and affiliations, and the nodes it alone owned (their
// subscribers told of the deletion, §8.4.2). A node with other owners
// stays theirs. Its subscriptions and memberships at other accounts' PEP
// services go too; its own PEP nodes go with the account in the store.
func (m *Module) Forget(ctx context.Context, account jid.JID) error {
	who := account.Bare().String()
	affs, err := m.Store.PubSubAffiliations(ctx, m.Addr.String(), "")
	if err != nil {
		return fmt.Errorf("pubsub: forget %s: %w", who, err)
	}
	owners := map[string]int{}
	for _, a := range affs {
		if a.Affiliation == store.AffiliationOwner {
			owners[a.Node]++
		}
	}
	for _, a := range affs {
		if a.JID != who {
			continue
		}
		if err := m.forgetIn(ctx, a, owners[a.Node] == 1); err != nil {
			return fmt.Errorf("pubsub: forget %s: %w", who, err)
		}
	}
	subs, err := m.Store.PubSubSubscriptions(ctx, m.Addr.String(), "")
	if err != nil {
		return fmt.Errorf("pubsub: forget %s: %w", who, err)
	}
	for _, s := range subs {
		if j, err := jid.Parse(s.JID); err != nil || j.Bare().String() != who {
			continue
		}
		err := m.Store.DeletePubSubSubscription(ctx, m.Addr.String(), s.Node, s.JID, s.SubID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("pubsub: forget %s: %w", who, err)
		}
	}
	// And at other accounts' PEP services (their nodes are theirs).
	return m.Store.ForgetPubSubJID(ctx, who)
}

// forgetIn drops one affiliation of a deleted account; the node goes
// when the account was its only owner.
func (m *Module) forgetIn(ctx context.Context, a store.PubSubAffiliation, soleOwner bool) error {
	defer m.lockNode(a.Node).Unlock()
	if a.Affiliation != store.AffiliationOwner || !soleOwner {
		err := m.Store.SetPubSubAffiliation(ctx, m.Addr.String(), a.Node, store.PubSubAffiliation{JID: a.JID, Affiliation: store.AffiliationNone})
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	subs, err := m.Store.PubSubSubscriptions(ctx, m.Addr.String(), a.Node)
	if err != nil {
		return err
	}
	if err := m.Store.DeletePubSubNode(ctx, m.Addr.String(), a.Node); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	for _, st := range m.events(subs, xmlstream.New("delete", NSEvent, "node", a.Node)) {
		if st.To.Bare().String() != a.JID {
			m.router.Send(ctx, st)
		}
	}
	return nil
}
