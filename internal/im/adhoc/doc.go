// Package adhoc serves XEP-0050 Ad-Hoc Commands at the server's domain: a
// registry that other modules add commands to (Add), their discovery
// (disco#items of the node http://jabber.org/protocol/commands and
// disco#info of each command node, §2), and their execution in sessions
// (§3-4): each stage's <actions/> are remembered, so that the next
// request's action is checked against them (§4.6 bad-action), "execute"
// means the stage's default, and cancel ends a session at any stage.
//
// A command session belongs to the full JID that started it (§5: "valid
// only between one requester/responder pair"). It ends when it completes,
// is canceled, expires (Options.SessionTTL) or its requester's XMPP
// session ends; a user holds at most Options.MaxSessions at once. An
// unknown session id is bad-sessionid; an expired one that is still
// remembered is session-expired (§4.6).
package adhoc
