// Package mam keeps every local user's 1:1 message history and answers
// queries over it: Message Archive Management (XEP-0313, urn:xmpp:mam:2),
// including the whole of urn:xmpp:mam:2#extended (archive metadata,
// before-id / after-id / ids filters, flip-page), Result Set Management
// paging both ways (XEP-0059), full-text search (XEP-0431's
// {urn:xmpp:fulltext:0}fulltext field, and ejabberd's withtext), and
// archiving preferences (XEP-0441).
//
// The module is a router.MessageObserver. Outgoing archives the sender's
// copy under a new id (the sender learns it from its own archive);
// Incoming archives the recipient's copy under the stanza-id the router
// stamped (XEP-0359), so archive ids equal the stanza-ids clients see.
// Both return the queued archive write (router.Write): the router hands
// it to the sending session, which waits for the commit before it
// acknowledges the message, and in compliance mode (Required) waits for it
// before delivering (docs/design/06).
//
// A sender's retraction (XEP-0424) is archived, and turns the message it
// names into a tombstone (Tombstone, RetractArchived) in the sender's and
// the local recipient's archive; rooms use the same operation for
// moderation (XEP-0425). Queries are bounded (Limits: search length and
// words, ids, a deadline), and the store holds them to their own share of
// its connections.
//
// The module follows the module contract: New(Options), then Register on
// the router, which it keeps to deliver query results.
//
// Order is the order of archiving, not of ids or timestamps (XEP-0313
// §3.1: "implementors should take care not to rely on timestamps alone").
// Groupchat messages are not archived here: rooms keep their own archive.
package mam
