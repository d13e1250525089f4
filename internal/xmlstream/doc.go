// Package xmlstream reads and writes the XML of XMPP streams: the stream
// header, the top-level elements (stanzas and nonzas) inside it, and the
// element trees they carry.
//
// It implements the restricted XML profile of RFC 6120 §11 (no comments,
// processing instructions, DTDs or entity references other than the five
// predefined ones; UTF-8 only) over XML 1.0 with Namespaces in XML 1.0, and
// parses the self-contained frames of RFC 7395 (XMPP over WebSocket) with
// Parse.
//
// The package exists instead of encoding/xml because the reader is the hot
// path of the server: a Reader finds stanza boundaries with a byte-level
// scanner that enforces Limits as bytes arrive, copies each stanza once, and
// parses it into a tree whose strings are views of that copy. See
// docs/design/01_xml_reader.md for the measurements behind the choice.
//
// Errors are *SyntaxError values whose Condition is the RFC 6120 §4.9.3
// stream error condition the caller should send.
package xmlstream
