// Package directory makes an LDAP directory (OpenLDAP, Active Directory)
// an account source ([auth.ldap], docs/design/18_directory.md):
//
//   - CheckPassword verifies a PLAIN password by binding as the user's
//     entry (sasl.Config.CheckPassword). The username has been through
//     PRECIS (jid.Localpart) before it gets here and is escaped
//     (RFC 4515, ldap.EscapeFilter) into the search filter, so no
//     username changes the filter's structure.
//   - A directory user gets a local account without SCRAM keys at the
//     first sync or login (so routing, offline storage and rosters know
//     the user); an account without keys is a directory account, whose
//     password only the directory checks.
//   - Sync reads users and groups every interval: groups become shared
//     roster groups (roster.Shared), and a user gone from the directory
//     (deleted, or no longer matching the user filter, e.g. disabled)
//     loses its sessions, audited; its logins are refused at once.
//   - VCard serves a directory user's attributes as a vCard (XEP-0054).
//
// A directory that does not answer is ErrUnavailable: directory logins
// fail with temporary-auth-failure, local accounts are not affected, the
// last sync's groups stay, and connections are dialled again on the next
// request.
package directory
