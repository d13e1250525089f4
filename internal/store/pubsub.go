package store

import (
	"context"
	"time"
)

// PubSub keeps publish-subscribe state (XEP-0060) by service and node:
// the nodes of a pubsub service (service is its domain, such as
// pubsub.example.com) with their items, and the affiliations and
// subscriptions of any node, PEP nodes included (service is then the
// account's bare JID, which contains '@' and so never equals a domain).
//
// A node owned by an account (Owner, a username) goes with the account;
// affiliations, subscriptions and items go with their node. Configuration
// is opaque to the store (the pubsub module's JSON) except MaxItems,
// which bounds the items a node keeps.
type PubSub interface {
	// PutPubSubNode creates a node or replaces its owner and
	// configuration, trimming its items to MaxItems (at least 1).
	// ErrNotFound when Owner names no account.
	PutPubSubNode(ctx context.Context, service string, n PubSubNode) error
	// PubSubNode returns one node; ErrNotFound.
	PubSubNode(ctx context.Context, service, node string) (PubSubNode, error)
	// PubSubNodes returns a service's nodes in ascending name byte order.
	PubSubNodes(ctx context.Context, service string) ([]PubSubNode, error)
	// DeletePubSubNode removes a node with its items, affiliations and
	// subscriptions; ErrNotFound.
	DeletePubSubNode(ctx context.Context, service, node string) error
	// PublishPubSubItem stores an item as the node's newest, replacing an
	// item with the same ID, and drops the oldest beyond MaxItems.
	// ErrNotFound if the node does not exist.
	PublishPubSubItem(ctx context.Context, service, node string, it PubSubItem) error
	// PubSubItems returns items oldest first: the newest max (all when
	// max <= 0), or those of ids. ErrNotFound if the node does not exist.
	PubSubItems(ctx context.Context, service, node string, ids []string, max int) ([]PubSubItem, error)
	// PubSubItemSizes returns the items' IDs and payload sizes, oldest
	// first; ErrNotFound if the node does not exist.
	PubSubItemSizes(ctx context.Context, service, node string) ([]PEPItemSize, error)
	// RetractPubSubItem removes one item; ErrNotFound for no node or item.
	RetractPubSubItem(ctx context.Context, service, node, id string) error
	// PurgePubSubNode removes every item of a node; ErrNotFound.
	PurgePubSubNode(ctx context.Context, service, node string) error
	// SetPubSubAffiliation sets a JID's affiliation with a node;
	// AffiliationNone removes it. ErrNotFound if the node does not exist.
	SetPubSubAffiliation(ctx context.Context, service, node string, a PubSubAffiliation) error
	// PubSubAffiliations returns a node's affiliations by JID, or with
	// node "" those of every node of the service by node and JID.
	PubSubAffiliations(ctx context.Context, service, node string) ([]PubSubAffiliation, error)
	// PutPubSubSubscription creates or replaces the subscription
	// (JID, SubID) to a node. ErrNotFound if the node does not exist.
	PutPubSubSubscription(ctx context.Context, service, node string, s PubSubSubscription) error
	// DeletePubSubSubscription removes one subscription; ErrNotFound.
	DeletePubSubSubscription(ctx context.Context, service, node, jid, subid string) error
	// PubSubSubscriptions returns a node's subscriptions by JID and SubID,
	// or with node "" those of every node of the service.
	PubSubSubscriptions(ctx context.Context, service, node string) ([]PubSubSubscription, error)
	// ForgetPubSubJID removes, at every service, the subscriptions of a
	// bare JID and of its full JIDs, and its affiliations other than
	// owner (owned nodes are the service's to decide about): what a
	// deleted account leaves at other accounts' PEP services.
	ForgetPubSubJID(ctx context.Context, bare string) error
	// PubSubOwnedBytes is the payload bytes of the items of every node
	// of a service that a JID owns (its owner affiliation).
	PubSubOwnedBytes(ctx context.Context, service, owner string) (int64, error)
}

// PubSubNode is a node of a service.
type PubSubNode struct {
	Node     string
	Owner    string // the account it goes with; "" for none
	MaxItems int    // items kept; at least 1
	Config   []byte // the pubsub module's configuration, JSON
}

// PubSubItem is one published item.
type PubSubItem struct {
	ID        string
	Publisher string // bare JID
	Payload   []byte // the item's child element, serialised with its xmlns
	Updated   time.Time
}

// Affiliations of XEP-0060 §4.1.
const (
	AffiliationOwner     = "owner"
	AffiliationPublisher = "publisher"
	AffiliationPubOnly   = "publish-only"
	AffiliationMember    = "member"
	AffiliationNone      = "none"
	AffiliationOutcast   = "outcast"
)

// PubSubAffiliation is a JID's affiliation with a node.
type PubSubAffiliation struct {
	Node        string
	JID         string // bare
	Affiliation string
}

// Subscription states of XEP-0060 §4.2.
const (
	SubscriptionSubscribed   = "subscribed"
	SubscriptionPending      = "pending"
	SubscriptionUnconfigured = "unconfigured"
)

// PubSubSubscription is one subscription to a node.
type PubSubSubscription struct {
	Node    string
	JID     string // as subscribed: bare or full
	SubID   string
	State   string
	Options []byte // the pubsub module's subscription options, JSON
}
