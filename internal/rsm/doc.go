// Package rsm implements XEP-0059 Result Set Management: reading the
// <set/> a requester puts in a query to page through a long result (max,
// after, before, index) and building the <set/> of the answer (first
// with its index, last, count).
//
// One reader serves every paged protocol (MAM queries, the MUC service's
// room list, PubSub items) so that all apply the same rules: a page size
// is capped rather than refused (§2.1 lets the responder return fewer
// items), an empty <before/> asks for the last page (§2.5), and a request
// that names two starting points, or one that is not a number where a
// number is due, is a bad request. Errors are stanza errors whose text
// says what was wrong, so a handler can return them as they are.
package rsm
