// Package jid implements XMPP addresses as specified by RFC 7622
// ("Extensible Messaging and Presence Protocol (XMPP): Address Format").
//
// A JID is parsed and normalised once, with the PRECIS profiles the RFC
// names (UsernameCaseMapped for the localpart, OpaqueString for the
// resourcepart, RFC 8264/8265) and IDNA2008 for the domainpart. The result is
// a small comparable value: two JIDs are the same address exactly when they
// are ==, so a JID can be used as a map key without further normalisation.
//
// Errors from Parse and New match ErrMalformed with errors.Is; callers map
// them to the jid-malformed stanza error of RFC 6120 §8.3.3.8.
package jid
