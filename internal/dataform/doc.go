// Package dataform reads and writes XEP-0004 data forms (jabber:x:data):
// the forms a service offers (type form), what a client submits (submit,
// cancel) and what a service reports (result), including the extended
// service discovery forms of XEP-0128.
//
// One parser serves every protocol that carries forms (MUC configuration,
// voice requests and registration, MAM queries, PubSub node configuration
// and publish-options, entity capabilities), so that all apply the same
// rules and the same limits: Parse bounds the number of fields, the values
// of one field and the bytes of text a form may hold, and rejects a form
// that XEP-0004 §3 calls malformed. Errors are stanza errors
// (bad-request, or policy-violation for a limit) whose text names what
// was wrong, so a handler can return them as they are.
//
// Values are kept as sent; the typed getters (Bool, JID, TextMulti)
// interpret them as XEP-0004 §3.3 defines the field types.
package dataform
