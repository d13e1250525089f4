// Package pubsub is the publish-subscribe core (XEP-0060) that the PEP
// service (internal/im/pep, XEP-0163) and the pubsub service at
// pubsub.<domain> share: the node configuration with its data forms
// (§8.2, §7.1.5 publish-options, §16.4.3 pubsub#node_config), the access
// models (§4.5: open, presence, roster with pubsub#roster_groups_allowed,
// whitelist) and the protocol's errors (§7.1.3 and elsewhere); and the
// pubsub service at pubsub.<domain> (Module): discovery (§5), subscribe,
// unsubscribe and subscription options (§6.1-6.4), items (§6.5),
// publish with publish-options preconditions and retract (§7), create,
// configure, default, delete, purge (§8.1-8.5), subscription approval
// under the authorize model (§8.6), and owners managing subscriptions
// and affiliations (§8.8, §8.9); the pubsub#notify_config, _delete,
// _retract and _sub options (§16.4.3) decide which changes are
// notified. Nodes, items, affiliations and
// subscriptions are kept by the store (store.PubSub) under the service's
// domain; notifications are headline messages to subscribed JIDs.
package pubsub
