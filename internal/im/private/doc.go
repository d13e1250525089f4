// Package private implements XEP-0049 Private XML Storage
// (jabber:iq:private): a user keeps arbitrary XML fragments on the server,
// one per (element name, namespace), readable and writable only by that
// user.
//
// Fragments are stored as raw bytes under the key "name namespace"; the
// server never interprets them, which is what lets old clients keep
// XEP-0048 bookmarks and roster notes here.
package private
