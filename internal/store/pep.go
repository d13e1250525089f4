package store

import "context"

// PEP keeps the personal eventing nodes of accounts (XEP-0163, the
// subset of XEP-0060 a PEP service needs): per-user nodes with their
// configuration, and their published items. It is part of Store: every
// backend keeps PEP nodes, so the server always serves PEP.
type PEP interface {
	// PutPEPNode creates a node of owner or replaces its configuration
	// (items are kept, trimmed to MaxItems). ErrNotFound for an unknown
	// owner.
	PutPEPNode(ctx context.Context, owner string, n PEPNode) error
	// PEPNode returns one node; ErrNotFound if owner has no such node.
	PEPNode(ctx context.Context, owner, node string) (PEPNode, error)
	// PEPNodes returns owner's nodes in ascending name byte order.
	PEPNodes(ctx context.Context, owner string) ([]PEPNode, error)
	// DeletePEPNode removes a node with its items; ErrNotFound.
	DeletePEPNode(ctx context.Context, owner, node string) error
	// PublishPEPItem stores an item as the node's newest, replacing an
	// item with the same ID, and drops the oldest items beyond the
	// node's MaxItems. ErrNotFound if the node does not exist.
	PublishPEPItem(ctx context.Context, owner, node string, it PEPItem) error
	// PEPItems returns the node's items, oldest first: the newest max
	// (all when max <= 0), or only those of ids (in the node's order;
	// unknown ids are left out). ErrNotFound if the node does not exist.
	PEPItems(ctx context.Context, owner, node string, ids []string, max int) ([]PEPItem, error)
	// RetractPEPItem removes one item; ErrNotFound if the node or the
	// item does not exist.
	RetractPEPItem(ctx context.Context, owner, node, id string) error
	// PEPItemSizes returns the IDs of a node's items, oldest first, with
	// the size of each payload, without reading the payloads: what quotas
	// and paged replies need. ErrNotFound if the node does not exist.
	PEPItemSizes(ctx context.Context, owner, node string) ([]PEPItemSize, error)
	// PEPUsage returns what all of owner's nodes hold (zero for an owner
	// without nodes).
	PEPUsage(ctx context.Context, owner string) (PEPUsage, error)
}

// PEPItemSize is one item's ID and the length of its payload in bytes.
type PEPItemSize struct {
	ID    string
	Bytes int
}

// PEPUsage is what one account's PEP service holds.
type PEPUsage struct {
	Nodes int
	Items int
	Bytes int64 // of the items' payloads
}

// Access models of XEP-0060 §4.5 that PEP nodes use.
const (
	AccessOpen      = "open"
	AccessPresence  = "presence"
	AccessRoster    = "roster"
	AccessWhitelist = "whitelist"
)

// PEPNode is a node's configuration (pubsub#node_config).
type PEPNode struct {
	Node        string
	AccessModel string // AccessOpen, AccessPresence, AccessWhitelist
	// PersistItems: items are stored; otherwise only notified.
	PersistItems bool
	MaxItems     int // items kept; at least 1
}

// PEPItem is one published item: a pubsub item (PEP is pubsub on an
// account's JID). PEP keeps no Publisher, the owner being the only
// publisher: it reads back empty.
type PEPItem = PubSubItem
