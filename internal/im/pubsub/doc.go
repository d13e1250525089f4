// Package pubsub is the publish-subscribe core (XEP-0060) that the PEP
// service (internal/im/pep, XEP-0163) and the pubsub service at
// pubsub.<domain> share: the node configuration with its data forms
// (§8.2, §7.1.5 publish-options, §16.4.3 pubsub#node_config), the access
// models (§4.5: open, presence, roster with pubsub#roster_groups_allowed,
// whitelist) and the protocol's errors (§7.1.3 and elsewhere).
package pubsub
