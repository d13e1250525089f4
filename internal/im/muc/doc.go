// Package muc is the Multi-User Chat service (XEP-0045), a component
// served on conference.<domain>: rooms created on first join or by an
// administrator, occupants with roles and affiliations, the room
// configuration form (XEP-0004 data forms, muc#roomconfig), history on
// join, subjects, private messages, mediated invitations, voice requests,
// registration with a room (reserved nicknames), and the extensions modern
// clients expect of a room: unique and stable stanza ids stamped by the
// room (XEP-0359), occupant ids (XEP-0421), message moderation (XEP-0425),
// self-ping (XEP-0410) and room avatars (XEP-0486).
//
// The module follows the contract of docs/design/02_modules.md:
// New(Options) builds it, Register(router) makes it the handler of its
// domain (conference.<domain> unless Options.JID says otherwise).
//
// Layout, by concern:
//   - muc.go: the module, its options, dispatch and room lookup;
//   - quota.go: who may create rooms and how many (per-user limits);
//   - room.go: room state, roles and affiliations, the outbox that sends
//     after the room's lock is released;
//   - presence.go: join, leave, nickname change (§7.2, §7.6, §7.14);
//   - message.go: groupchat, subject, private messages, invitations (§7.4,
//     §7.5, §7.8, §8.1);
//   - history.go: the history sent on join (§7.2.14), in memory, filled
//     from the room archive when a persistent room is read again;
//   - config.go: the configuration form and room info (§10.2, §6.4);
//   - admin.go, owner.go: muc#admin and muc#owner (§8-§10);
//   - voice.go: voice requests and their approval (§7.13, §8.6);
//   - register.go: registration and reserved nicknames (§7.10, §7.12);
//   - forms.go: reading the data forms clients submit (XEP-0004, through
//     internal/dataform, with the room's limits);
//   - iq.go: IQs to rooms and occupants, disco (§6), self-ping, moderation;
//   - avatar.go: the room's vCard and avatar (XEP-0486, XEP-0153);
//   - persist.go: persistent rooms through store.Rooms and the functions
//     behind `parley room create|list|destroy`.
//
// Fan-out: a groupchat message is parsed once (by c2s) and serialised once
// by the room; each occupant gets those bytes with its 'to' spliced in
// (xmlstream.SetAttr), and everything goes out through the router after the
// room's lock is released, in the order the room produced it.
package muc
