package xmlstream

import (
	"bytes"
	"unicode/utf8"
)

// Append appends the XML encoding of e to dst, declaring e's namespace
// (unless e.Space is "") so the result stands alone.
func Append(dst []byte, e *Element) []byte {
	return AppendIn(dst, e, "")
}

// AppendIn appends e as a child of an element whose default namespace is
// parentSpace: xmlns is declared only when e.Space differs.
//
// A parsed element (Raw != nil) is copied byte for byte, so forwarding
// never re-encodes; if its namespace came from an ancestor that is not
// written, the missing declaration (xmlns='...' or xmlns:p='...' for a
// prefixed name) is spliced into the start tag. Prefixes used only by
// descendants of a Raw element must be declared within it, which holds
// for stanzas: the only inherited prefix in XMPP streams is "stream",
// used by nonzas at the top level.
//
// Otherwise e is encoded with single-quoted attributes, its Text before
// its children, and a self-closing tag when it has neither.
func AppendIn(dst []byte, e *Element, parentSpace string) []byte {
	if e.Raw != nil {
		return appendRaw(dst, e, parentSpace)
	}
	dst = append(dst, '<')
	dst = append(dst, e.Name...)
	if e.Space != parentSpace {
		dst = appendAttr(dst, "xmlns", e.Space)
	}
	for _, a := range e.Attr {
		dst = appendAttr(dst, a.Name, a.Value)
	}
	if e.Text == "" && len(e.Children) == 0 {
		return append(dst, "/>"...)
	}
	dst = append(dst, '>')
	dst = appendEscaped(dst, e.Text, false)
	for _, c := range e.Children {
		dst = AppendIn(dst, c, e.Space)
	}
	dst = append(dst, "</"...)
	dst = append(dst, e.Name...)
	return append(dst, '>')
}

func appendAttr(dst []byte, name, value string) []byte {
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, "='"...)
	dst = appendEscaped(dst, value, true)
	return append(dst, '\'')
}

// appendEscaped escapes the five markup characters, and the characters a
// parser would normalise away (CR everywhere, tab and LF in attribute
// values, XML 1.0 §2.11, §3.3.3) as character references so they survive a
// round trip. Invalid UTF-8 becomes U+FFFD rather than ill-formed output.
func appendEscaped(dst []byte, s string, attr bool) []byte {
	// Most text (JIDs, ids, plain words) needs nothing: copy it whole.
	plain := 0
	for plain < len(s) && !mayEscape[s[plain]] {
		plain++
	}
	if plain == len(s) {
		return append(dst, s...)
	}
	last := 0
	for i := plain; i < len(s); {
		c := s[i]
		var esc string
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '\'':
			esc = "&apos;"
		case c == '"':
			esc = "&quot;"
		case c == '\r':
			esc = "&#13;"
		case c == '\n' && attr:
			esc = "&#10;"
		case c == '\t' && attr:
			esc = "&#9;"
		case c < 0x20 && c != '\n' && c != '\t':
			esc = "\uFFFD" // XML 1.0 cannot carry it at all
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(s[i:])
			if (r == utf8.RuneError && n == 1) || !isXMLChar(r) {
				dst = append(dst, s[last:i]...)
				dst = append(dst, "\uFFFD"...)
				i += n
				last = i
				continue
			}
			i += n
			continue
		default:
			i++
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		i++
		last = i
	}
	return append(dst, s[last:]...)
}

// mayEscape marks the bytes appendEscaped may have to rewrite: markup,
// control characters and the start of every multi-byte UTF-8 sequence
// (which it validates).
var mayEscape = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	for _, c := range "&<>'\"" {
		t[c] = true
	}
	return t
}()

func appendRaw(dst []byte, e *Element, parentSpace string) []byte {
	raw := e.Raw
	nameEndAt := nameEnd(raw, 1)
	qname := raw[1:nameEndAt]
	if c := bytes.IndexByte(qname, ':'); c >= 0 {
		// Prefixed: the prefix must be bound within the output.
		decl := "xmlns:" + string(qname[:c])
		if _, _, ok := findAttr(raw, decl); !ok {
			return appendWithAttr(dst, raw, nameEndAt, decl, e.Space)
		}
		return append(dst, raw...)
	}
	if e.Space != parentSpace {
		if _, _, ok := findAttr(raw, "xmlns"); !ok {
			return appendWithAttr(dst, raw, nameEndAt, "xmlns", e.Space)
		}
	}
	return append(dst, raw...)
}

// appendWithAttr appends raw with ` name='value'` inserted at raw[at].
func appendWithAttr(dst, raw []byte, at int, name, value string) []byte {
	dst = append(dst, raw[:at]...)
	dst = appendAttr(dst, name, value)
	return append(dst, raw[at:]...)
}

// findAttr locates attribute name in the root start tag of raw and returns
// the span from the start of its name to just after its closing quote.
// ok is false if raw does not start with a start tag or has no such
// attribute.
func findAttr(raw []byte, name string) (start, end int, ok bool) {
	start, end, _, ok = scanStartTag(raw, name)
	return start, end, ok && start >= 0
}

// scanStartTag walks the root start tag of raw. It returns the span of
// attribute name (start = -1 if absent) and the offset just after the
// element name; ok is false if raw does not begin with a well-formed start
// tag.
func scanStartTag(raw []byte, name string) (start, end, afterName int, ok bool) {
	if len(raw) < 2 || raw[0] != '<' {
		return -1, -1, 0, false
	}
	i := nameEnd(raw, 1)
	if i == 1 {
		return -1, -1, 0, false
	}
	afterName = i
	start, end = -1, -1
	for {
		j := skipSpace(raw, i)
		if j >= len(raw) {
			return -1, -1, 0, false
		}
		if raw[j] == '>' || raw[j] == '/' {
			return start, end, afterName, true
		}
		if j == i {
			return -1, -1, 0, false
		}
		k := nameEnd(raw, j)
		if k == j {
			return -1, -1, 0, false
		}
		aname := raw[j:k]
		k = skipSpace(raw, k)
		if k >= len(raw) || raw[k] != '=' {
			return -1, -1, 0, false
		}
		k = skipSpace(raw, k+1)
		if k >= len(raw) || (raw[k] != '\'' && raw[k] != '"') {
			return -1, -1, 0, false
		}
		n := bytes.IndexByte(raw[k+1:], raw[k])
		if n < 0 {
			return -1, -1, 0, false
		}
		i = k + n + 2
		if start < 0 && string(aname) == name {
			start, end = j, i
		}
	}
}

// SetAttr returns a new buffer holding raw (a serialised element such as
// Element.Raw) with the attribute name of its root start tag set to value:
// replaced in place if present, inserted after the element name if not.
// Nothing else is re-encoded, which is how the server stamps 'from' on a
// stanza it forwards (RFC 6120 §8.1.2.1). name must be a valid XML name.
// It returns nil if raw does not begin with a well-formed start tag.
func SetAttr(raw []byte, name, value string) []byte {
	start, end, afterName, ok := scanStartTag(raw, name)
	if !ok {
		return nil
	}
	out := make([]byte, 0, len(raw)+len(name)+len(value)+8)
	if start < 0 {
		return appendWithAttr(out, raw, afterName, name, value)
	}
	out = append(out, raw[:start]...)
	out = append(out, name...)
	out = append(out, "='"...)
	out = appendEscaped(out, value, true)
	out = append(out, '\'')
	return append(out, raw[end:]...)
}

// RemoveAttr returns a new buffer holding raw without the attribute name
// of its root start tag (and the space before it). It returns nil if raw
// does not begin with a well-formed start tag.
func RemoveAttr(raw []byte, name string) []byte {
	start, end, _, ok := scanStartTag(raw, name)
	if !ok {
		return nil
	}
	if start < 0 {
		return append([]byte(nil), raw...)
	}
	for start > 0 && spaceClass[raw[start-1]] {
		start--
	}
	out := make([]byte, 0, len(raw)-(end-start))
	out = append(out, raw[:start]...)
	return append(out, raw[end:]...)
}

// String returns the XML encoding of e, for tests and debugging.
func (e *Element) String() string {
	return string(Append(nil, e))
}
