// Package private implements XEP-0049 Private XML Storage
// (jabber:iq:private): a user keeps arbitrary XML fragments on the server,
// one per (element name, namespace), readable and writable only by that
// user.
//
// Fragments are stored as raw bytes under the key "name namespace"; the
// server does not interpret them, which is what lets old clients keep
// XEP-0048 bookmarks and roster notes here. The one exception, with
// Options.PEP: XEP-0048 bookmarks (storage:bookmarks) are unified with
// XEP-0402 bookmarks in PEP (XEP-0402 §5.3, bookmarks.go).
package private
