// Package ediscovery is compliance e-discovery (issue 14): one search
// across every archive (users' and rooms') by participants, rooms, dates
// and words through the store's full-text indexes, reporting a 1:1
// message archived by both parties once; and exports of a search as a
// zip of JSON Lines, the attachments still stored, EML (RFC 5322) for
// archive ingestion tools and a manifest (query, who, when, counts,
// SHA-256 of every file) signed with the audit log's Ed25519 key, built
// by jobs that persist their progress and resume after a restart, and
// checked by Verify. docs/design/19_ediscovery.md explains the choices;
// docs/compliance-guide.md says what an export proves.
package ediscovery
