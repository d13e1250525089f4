package store

import "context"

// The PubSub methods beyond nodes and items (NodeMethods) that both SQL
// backends share (StmtMethods).

// whereNode is query (selecting rows of service) narrowed to node unless
// it is "", and its arguments.
func (m StmtMethods) whereNode(query, service, node string) (string, []any) {
	query += ` WHERE service = ` + m.DB.Param(1)
	if node == "" {
		return query, []any{service}
	}
	return query + ` AND node = ` + m.DB.Param(2), []any{service, node}
}

// PubSubAffiliations returns a node's affiliations, or a service's.
func (m StmtMethods) PubSubAffiliations(ctx context.Context, service, node string) ([]PubSubAffiliation, error) {
	q, args := m.whereNode(`SELECT node, jid, affiliation FROM pubsub_affiliations`, service, node)
	out, err := QueryRows(ctx, m.DB, func(scan func(...any) error) (PubSubAffiliation, error) {
		var a PubSubAffiliation
		return a, scan(&a.Node, &a.JID, &a.Affiliation)
	}, q+` ORDER BY node, jid`, args...)
	return out, m.fail(err, "affiliations of pubsub node %q of %q", node, service)
}

// PubSubSubscriptions returns a node's subscriptions, or a service's.
func (m StmtMethods) PubSubSubscriptions(ctx context.Context, service, node string) ([]PubSubSubscription, error) {
	q, args := m.whereNode(`SELECT node, jid, subid, state, options FROM pubsub_subscriptions`, service, node)
	out, err := QueryRows(ctx, m.DB, func(scan func(...any) error) (PubSubSubscription, error) {
		var v PubSubSubscription
		return v, scan(&v.Node, &v.JID, &v.SubID, &v.State, &v.Options)
	}, q+` ORDER BY node, jid, subid`, args...)
	return out, m.fail(err, "subscriptions of pubsub node %q of %q", node, service)
}

// DeletePubSubSubscription removes a subscription; ErrNotFound.
func (m StmtMethods) DeletePubSubSubscription(ctx context.Context, service, node, jid, subid string) error {
	p := m.DB.Param
	err := mustAffect(m.DB.Exec(ctx, `DELETE FROM pubsub_subscriptions
		WHERE service = `+p(1)+` AND node = `+p(2)+` AND jid = `+p(3)+` AND subid = `+p(4), service, node, jid, subid))
	return m.fail(err, "unsubscribe %q from pubsub node %q of %q", jid, node, service)
}

// PubSubOwnedBytes sums the payloads of the nodes owner owns at service.
func (m StmtMethods) PubSubOwnedBytes(ctx context.Context, service, owner string) (int64, error) {
	n, err := queryValue[int64](ctx, m.DB, `SELECT coalesce(sum(octet_length(i.payload)), 0) FROM pubsub_affiliations AS a
		JOIN pubsub_items AS i ON i.service = a.service AND i.node = a.node
		WHERE a.service = `+m.DB.Param(1)+` AND a.jid = `+m.DB.Param(2)+` AND a.affiliation = 'owner'`, service, owner)
	return n, m.fail(err, "bytes owned by %q at %q", owner, service)
}
