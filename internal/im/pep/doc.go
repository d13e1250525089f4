// Package pep is the Personal Eventing Protocol service (XEP-0163): every
// account's bare JID is a pubsub service (the subset of XEP-0060 that PEP
// needs) where its owner publishes items to nodes of its own, such as
// XEP-0402 bookmarks (urn:xmpp:bookmarks:1, read by clients at login to
// join rooms automatically) and OMEMO device lists and bundles.
//
// Served: publish with publish-options (XEP-0060 §7.1.5:
// pubsub#persist_items, pubsub#access_model open/presence/roster/
// whitelist, the roster model with pubsub#roster_groups_allowed,
// pubsub#max_items including "max"; a mismatch with an existing node is
// <conflict/> + <precondition-not-met/>; under the authorize model a
// subscription is pending until the account answers the
// subscribe_authorization form, XEP-0060 §8.6, by a message to its own
// bare JID), nodes
// auto-created on first
// publish (§7.1.4), retract (§7.2, with notify), items retrieval (§6.5:
// all, max_items, by id; paged with result sets, §6.5.4 and XEP-0059,
// so that a reply stays within Limits.ReplyBytes) subject to the access
// model (§4.5), node configuration and deletion by the owner
// (pubsub#owner, §8.2, §8.4).
// Item size, items per node, nodes and bytes per account are bounded
// (Limits; docs/SECURITY.md).
//
// Notifications (§7.1.2.1) follow XEP-0163 §4: they go to the available
// resources, with non-negative priority, of the owner and, for open and
// presence nodes, of contacts with a presence subscription to the owner,
// that asked for them: their entity capabilities (XEP-0115) include the
// node's name with "+notify" (§4.2 filtered notifications; the owner's own
// resources are filtered too, §4 item 3). A whitelist node, such as
// bookmarks, notifies only the owner's resources. When a resource becomes
// available, or its caps become known, it gets the last published item of
// each node it newly asks for, of its own account and of the local
// contacts whose presence it receives, as the access model allows
// (§4.3.4), with a <delay/> saying when it was published (XEP-0060
// §6.1.7, XEP-0203); a presence update with the same caps sends nothing
// again. Roster nodes notify only contacts in an allowed group.
//
// The node model, its forms and the access models are the pubsub core's
// (internal/im/pubsub), as are reading a publish, paging an items reply,
// the events and the notification messages; configuration beyond PEP's own table (the
// roster groups) is kept in the core's store under the account's bare
// JID.
//
// Caps are learned from the available presence of local sessions
// (presence.Handler.OnAvailable): a verification string already verified
// is taken from a cache shared by all sessions (LRU, maxCaps entries);
// otherwise the service asks the session for disco#info at node#ver
// through router.Query and caches the answer only if it hashes to the
// ver (XEP-0115 §5.1, §5.4; sha-1, sha-256, sha-512; other algorithms and
// legacy caps are ignored). If the answer fails or never comes
// (DiscoTimeout), the next session that sent the same ver is asked.
// Lookups are bounded at once and per account (Limits.Discoveries,
// Limits.AccountDiscoveries), so that no account can starve the others.
// No event goes to a contact the owner has blocked or who has blocked
// the owner (§4.3.3, XEP-0191; Module.Blocks).
//
// Contacts on other servers are served the same way: the available
// presence a remote contact's session sends to the account
// (presence.Handler.OnRemote) brings its caps, discovered across the link
// like a local session's, and its notifications and last items are routed
// to it across the link. Only contacts subscribed to the account's
// presence are kept, at most maxRemoteResources sessions each, until they
// send unavailable presence.
//
// Explicit subscriptions (§6.1-6.3, on the pubsub core, kept under the
// account's bare JID) come besides: a subscriber gets the last item
// with <delay/> and then each event once per resource. The owner
// manages subscriptions (§8.8) and affiliations (§8.9: whitelist
// members and outcasts; the account stays the one owner) and purges
// nodes (§8.5); subscribers are told of purge and delete.
package pep
