// Package push sends push notifications (XEP-0357) for accounts whose
// clients are away.
//
// A client enables notifications with its app server's JID, the node the
// app server gave the device and, optionally, a publish-options form
// (XEP-0357 §5: typically a secret); the registration is stored per
// account, app server and node. When a message arrives for the account
// while none of its sessions has a client connected (stored offline, or
// queued for sessions hibernating under XEP-0198, or left unacknowledged
// by a session that began to hibernate: router.OnUnattended),
// the server publishes a notification to each registered node: a
// XEP-0060 publish from the account's bare JID with the
// urn:xmpp:push:summary form (§7: message count, last sender, and the
// last body only where the site allows it) and the client's form as
// publish-options. An app server that answers with an error loses the
// registration (§8); each device gets at most one notification per
// MinInterval.
package push
