// The part of the PEP and pubsub stores (PEP, PubSub) that both SQL
// backends share. PEP is pubsub on an
// account's JID: its nodes and items are kept in a table set of their
// own (pep_nodes and pep_items, by owner username, with PEP's
// configuration columns) beside the pubsub services' (pubsub_nodes and
// pubsub_items, by service), and one implementation of the node and item
// operations serves both sets. A backend supplies the statements (NodeDB);
// NodeMethods turns them into the store's methods.

package store

import (
	"context"
	"strings"
)

// NodeTables is one of the two table sets of nodes and their items.
type NodeTables struct {
	What   string // in errors: "pep" or "pubsub"
	Nodes  string // the node table
	Items  string // the item table: seq, Key, node, id, [Publisher,] payload, updated
	Key    string // the column naming whose nodes: owner or service
	Config string // the node columns after node and before max_items, as Node reads them
	// Publisher is the items' publisher column; "" for PEP, whose owner
	// publishes (PEPItem's Publisher reads back empty).
	Publisher string
}

// The two sets.
var (
	PEPTables    = NodeTables{What: "pep", Nodes: "pep_nodes", Items: "pep_items", Key: "owner", Config: "access_model, persist"}
	PubSubTables = NodeTables{What: "pubsub", Nodes: "pubsub_nodes", Items: "pubsub_items", Key: "service", Config: "owner, config", Publisher: "publisher"}
)

// Columns are the node columns Node reads and PutNode writes, in order.
func (t NodeTables) Columns() string { return "node, " + t.Config + ", max_items" }

// Upsert is the statement that creates a node or replaces its
// configuration, its parameters (the key, then Columns) numbered by
// param (1-based): the same SQL in both backends but for those.
func (t NodeTables) Upsert(param func(int) string) string {
	cols := strings.Split(t.Columns(), ", ")
	params := []string{param(1)}
	var set []string
	for i, c := range cols {
		params = append(params, param(i+2))
		if c != "node" {
			set = append(set, c+" = excluded."+c)
		}
	}
	return `INSERT INTO ` + t.Nodes + ` (` + t.Key + `, ` + t.Columns() + `) VALUES (` + strings.Join(params, ", ") + `)
		ON CONFLICT (` + t.Key + `, node) DO UPDATE SET ` + strings.Join(set, ", ")
}

// NodeDB is what a backend does on either table set, in its own SQL. Errors
// come back bare (ErrNotFound where the store's methods say);
// Nodes names the operation.
type NodeDB interface {
	QueryDB // for reading nodes
	// PutNode runs t.Upsert with key and values (ErrNotFound for an
	// unknown owner), then trims the node to its newest keep items, in
	// one transaction.
	PutNode(ctx context.Context, t NodeTables, key, node string, keep int, values []any) error
	// DeleteNode removes a node and all it holds; ErrNotFound.
	DeleteNode(ctx context.Context, t NodeTables, key, node string) error
	// Publish stores it as the node's newest item, replacing one with the
	// same ID, and trims the node to its max_items; ErrNotFound if the
	// node does not exist. A zero Updated means now.
	Publish(ctx context.Context, t NodeTables, key, node string, it PubSubItem) error
	// Items returns the node's items oldest first: the newest limit (all
	// when limit <= 0), or those of ids; ErrNotFound if the node does not
	// exist.
	Items(ctx context.Context, t NodeTables, key, node string, ids []string, limit int) ([]PubSubItem, error)
	// ItemSizes returns the IDs and payload sizes of a node's items,
	// oldest first; ErrNotFound if the node does not exist.
	ItemSizes(ctx context.Context, t NodeTables, key, node string) ([]PEPItemSize, error)
	// Retract removes one item; ErrNotFound for no node or item.
	Retract(ctx context.Context, t NodeTables, key, node, id string) error
}

// NodeMethods is the node and item methods of PEP and PubSub over a
// backend's NodeDB; a backend's Store embeds it.
type NodeMethods struct {
	Backend string // in errors: "sqlite" or "postgres"
	DB      NodeDB
}

func (n NodeMethods) fail(err error, format string, args ...any) error {
	return failed(n.Backend, err, format, args...)
}

// PutPEPNode creates or reconfigures a node; see PEP.
func (n NodeMethods) PutPEPNode(ctx context.Context, owner string, pn PEPNode) error {
	pn.MaxItems = max(pn.MaxItems, 1)
	err := n.DB.PutNode(ctx, PEPTables, owner, pn.Node, pn.MaxItems, []any{pn.Node, pn.AccessModel, pn.PersistItems, pn.MaxItems})
	return n.fail(err, "put pep node %q of %q", pn.Node, owner)
}

// PutPubSubNode creates or reconfigures a node; see PubSub.
func (n NodeMethods) PutPubSubNode(ctx context.Context, service string, sn PubSubNode) error {
	sn.MaxItems = max(sn.MaxItems, 1)
	var owner any // NULL: no account
	if sn.Owner != "" {
		owner = sn.Owner
	}
	config := sn.Config
	if config == nil {
		config = []byte{} // NOT NULL
	}
	err := n.DB.PutNode(ctx, PubSubTables, service, sn.Node, sn.MaxItems, []any{sn.Node, owner, config, sn.MaxItems})
	return n.fail(err, "put pubsub node %q of %q", sn.Node, service)
}

func scanPEPNode(scan func(...any) error) (PEPNode, error) {
	var n PEPNode
	return n, scan(&n.Node, &n.AccessModel, &n.PersistItems, &n.MaxItems)
}

func scanPubSubNode(scan func(...any) error) (PubSubNode, error) {
	var n PubSubNode
	var owner *string
	err := scan(&n.Node, &owner, &n.Config, &n.MaxItems)
	if owner != nil {
		n.Owner = *owner
	}
	return n, err
}

// readNodes reads the nodes of key (node "") or one node (nil for none).
func readNodes[N any](ctx context.Context, n NodeMethods, t NodeTables, scan func(func(...any) error) (N, error), key, node string) ([]N, error) {
	p := n.DB.Param
	q := `SELECT ` + t.Columns() + ` FROM ` + t.Nodes + ` WHERE ` + t.Key + ` = ` + p(1) +
		` AND (` + p(2) + ` = '' OR node = ` + p(3) + `) ORDER BY node`
	return QueryRows(ctx, n.DB, scan, q, key, node, node)
}

// readNode reads one node; ErrNotFound.
func readNode[N any](ctx context.Context, n NodeMethods, t NodeTables, scan func(func(...any) error) (N, error), key, node string) (N, error) {
	out, err := readNodes(ctx, n, t, scan, key, node)
	if err == nil && len(out) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		var zero N
		return zero, n.fail(err, "%s node %q of %q", t.What, node, key)
	}
	return out[0], nil
}

// PEPNode returns one node; ErrNotFound.
func (n NodeMethods) PEPNode(ctx context.Context, owner, node string) (PEPNode, error) {
	return readNode(ctx, n, PEPTables, scanPEPNode, owner, node)
}

// PubSubNode returns one node; ErrNotFound.
func (n NodeMethods) PubSubNode(ctx context.Context, service, node string) (PubSubNode, error) {
	return readNode(ctx, n, PubSubTables, scanPubSubNode, service, node)
}

// PEPNodes returns owner's nodes by name, nil for none.
func (n NodeMethods) PEPNodes(ctx context.Context, owner string) ([]PEPNode, error) {
	out, err := readNodes(ctx, n, PEPTables, scanPEPNode, owner, "")
	return out, n.fail(err, "pep nodes of %q", owner)
}

// PubSubNodes returns a service's nodes by name, nil for none.
func (n NodeMethods) PubSubNodes(ctx context.Context, service string) ([]PubSubNode, error) {
	out, err := readNodes(ctx, n, PubSubTables, scanPubSubNode, service, "")
	return out, n.fail(err, "pubsub nodes of %q", service)
}

// DeletePEPNode removes a node with its items; ErrNotFound.
func (n NodeMethods) DeletePEPNode(ctx context.Context, owner, node string) error {
	return n.fail(n.DB.DeleteNode(ctx, PEPTables, owner, node), "delete pep node %q of %q", node, owner)
}

// DeletePubSubNode removes a node with all it holds; ErrNotFound.
func (n NodeMethods) DeletePubSubNode(ctx context.Context, service, node string) error {
	return n.fail(n.DB.DeleteNode(ctx, PubSubTables, service, node), "delete pubsub node %q of %q", node, service)
}

// PublishPEPItem stores it as the node's newest item; see PEP.
func (n NodeMethods) PublishPEPItem(ctx context.Context, owner, node string, it PEPItem) error {
	return n.fail(n.DB.Publish(ctx, PEPTables, owner, node, it), "publish to pep node %q of %q", node, owner)
}

// PublishPubSubItem stores it as the node's newest item; see PubSub.
func (n NodeMethods) PublishPubSubItem(ctx context.Context, service, node string, it PubSubItem) error {
	return n.fail(n.DB.Publish(ctx, PubSubTables, service, node, it), "publish to pubsub node %q of %q", node, service)
}

// PEPItems returns items oldest first; see PEP.
func (n NodeMethods) PEPItems(ctx context.Context, owner, node string, ids []string, limit int) ([]PEPItem, error) {
	out, err := n.DB.Items(ctx, PEPTables, owner, node, ids, limit)
	return out, n.fail(err, "items of pep node %q of %q", node, owner)
}

// PubSubItems returns items oldest first; see PubSub.
func (n NodeMethods) PubSubItems(ctx context.Context, service, node string, ids []string, limit int) ([]PubSubItem, error) {
	out, err := n.DB.Items(ctx, PubSubTables, service, node, ids, limit)
	return out, n.fail(err, "items of pubsub node %q of %q", node, service)
}

// PEPItemSizes returns item IDs and payload lengths, oldest first.
func (n NodeMethods) PEPItemSizes(ctx context.Context, owner, node string) ([]PEPItemSize, error) {
	out, err := n.DB.ItemSizes(ctx, PEPTables, owner, node)
	return out, n.fail(err, "item sizes of pep node %q of %q", node, owner)
}

// PubSubItemSizes returns item IDs and payload lengths, oldest first.
func (n NodeMethods) PubSubItemSizes(ctx context.Context, service, node string) ([]PEPItemSize, error) {
	out, err := n.DB.ItemSizes(ctx, PubSubTables, service, node)
	return out, n.fail(err, "item sizes of pubsub node %q of %q", node, service)
}

// RetractPEPItem removes one item; ErrNotFound.
func (n NodeMethods) RetractPEPItem(ctx context.Context, owner, node, id string) error {
	return n.fail(n.DB.Retract(ctx, PEPTables, owner, node, id), "retract %q from pep node %q of %q", id, node, owner)
}

// RetractPubSubItem removes one item; ErrNotFound.
func (n NodeMethods) RetractPubSubItem(ctx context.Context, service, node, id string) error {
	return n.fail(n.DB.Retract(ctx, PubSubTables, service, node, id), "retract %q from pubsub node %q of %q", id, node, service)
}
