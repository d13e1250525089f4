// Package admin provides XEP-0133 Service Administration as ad-hoc
// commands (XEP-0050, package adhoc) at the domain, for the site admins
// of the configuration only: others neither see the commands listed nor
// may run them (forbidden, §5). Commands: add-user, delete-user,
// disable-user, reenable-user, end-user-session, change-user-password,
// get-online-users-num, get-online-users-list, announce (§4.1-4.5, 4.7,
// 4.15, 4.20, 4.23), and with the store (Options.Accounts) the reading
// ones: get-user-roster, get-user-lastlogin, user-stats, the numbers and
// lists of registered, disabled, active and idle users (§4.8-4.10,
// 4.13, 4.14, 4.16-4.19, 4.21, 4.22). Every change is audited (Options.Audit) with
// the admin as the actor.
//
// Each but get-online-users-num is two stages: the form, then its
// submission (no <actions/>, so "execute" completes, XEP-0050 §3.4). A
// submission naming several accounts goes through them all and reports
// what failed in notes of type error (XEP-0050 §3.5); a malformed one is
// bad-payload and nothing is done.
//
// The commands act on the running server through the operator's
// operations of internal/control (Ops: add, delete, password, end
// sessions; the same code as the CLI's control socket), the store for
// disabling (Disabler), and the router's session table (Sessions: who is
// online, one session by full JID, delivery of announcements).
package admin
