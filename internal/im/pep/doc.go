// Package pep is the Personal Eventing Protocol service (XEP-0163): every
// account's bare JID is a pubsub service (the subset of XEP-0060 that PEP
// needs) where its owner publishes items to nodes of its own, such as
// XEP-0402 bookmarks (urn:xmpp:bookmarks:1, read by clients at login to
// join rooms automatically) and OMEMO device lists and bundles.
//
// Served: publish with publish-options (XEP-0060 §7.1.5:
// pubsub#persist_items, pubsub#access_model open/presence/whitelist,
// pubsub#max_items including "max"; a mismatch with an existing node is
// <conflict/> + <precondition-not-met/>), nodes auto-created on first
// publish (§7.1.4), retract (§7.2, with notify), items retrieval (§6.5:
// all, max_items, by id) subject to the access model (§4.5), node
// configuration and deletion by the owner (pubsub#owner, §8.2, §8.4).
//
// Notifications (§7.1.2.1) go to the owner's available resources and, for
// open and presence nodes, to the available resources of contacts with a
// presence subscription to the owner. This approximates XEP-0163 §4.3's
// +notify filtering (no entity capabilities are evaluated): a whitelist
// node, such as bookmarks, notifies only the owner's own resources.
// Subscriptions (§6.1) and sending the last item on presence (XEP-0163
// §4.3.4) are not implemented; clients read the items they need.
package pep
