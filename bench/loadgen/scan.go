package loadgen

import (
	"bytes"
	"errors"
)

// Kinds of top-level stream units found by split.
const (
	unitElement = iota + 1 // a complete top-level element (stanza or nonza)
	unitHeader             // <stream:stream ...> (or an XML declaration)
	unitEnd                // </stream:stream>
)

var errText = errors.New("text at the top level of the stream")

// split finds the first complete top-level unit of an XMPP stream in b,
// skipping leading whitespace (keepalives). It returns the number of bytes
// the unit ends at (0: more bytes are needed), where it starts, and its
// kind. It does no more than find boundaries: tags are walked byte by byte
// (quotes respected), text is skipped with IndexByte. It trusts the server
// to send well-formed XML; it is a load generator, not a validator.
func split(b []byte) (end, start, kind int, err error) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	if i == len(b) {
		return 0, 0, 0, nil
	}
	if b[i] != '<' {
		return 0, 0, 0, errText
	}
	start = i
	depth := 0
	for {
		// b[i] == '<'
		if i+1 >= len(b) {
			return 0, 0, 0, nil
		}
		switch b[i+1] {
		case '?': // XML declaration or processing instruction
			k := bytes.Index(b[i:], []byte("?>"))
			if k < 0 {
				return 0, 0, 0, nil
			}
			i += k + 2
			if depth == 0 {
				return i, start, unitHeader, nil
			}
		case '!': // comment or CDATA
			term := []byte("-->")
			if bytes.HasPrefix(b[i:], []byte("<![")) {
				term = []byte("]]>")
			}
			k := bytes.Index(b[i:], term)
			if k < 0 {
				return 0, 0, 0, nil
			}
			i += k + len(term)
		case '/':
			k := bytes.IndexByte(b[i:], '>')
			if k < 0 {
				return 0, 0, 0, nil
			}
			i += k + 1
			depth--
			if depth == 0 {
				return i, start, unitElement, nil
			}
			if depth < 0 {
				return i, start, unitEnd, nil
			}
		default:
			k, ok := tagEnd(b, i+1)
			if !ok {
				return 0, 0, 0, nil
			}
			selfClosing := b[k-1] == '/'
			if depth == 0 && isStreamTag(b[i+1:k]) {
				return k + 1, start, unitHeader, nil
			}
			i = k + 1
			if selfClosing {
				if depth == 0 {
					return i, start, unitElement, nil
				}
			} else {
				depth++
			}
		}
		k := bytes.IndexByte(b[i:], '<')
		if k < 0 {
			return 0, 0, 0, nil
		}
		i += k
	}
}

// tagEnd returns the index of the '>' closing the start tag whose name
// begins at b[i], skipping quoted attribute values.
func tagEnd(b []byte, i int) (int, bool) {
	var quote byte
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '>':
			return i, true
		}
	}
	return 0, false
}

// isStreamTag says whether a start tag's contents begin with the stream
// element's name (any prefix).
func isStreamTag(tag []byte) bool {
	n := 0
	for n < len(tag) && tag[n] != ' ' && tag[n] != '\t' && tag[n] != '\n' && tag[n] != '\r' && tag[n] != '>' && tag[n] != '/' {
		n++
	}
	name := tag[:n]
	if c := bytes.IndexByte(name, ':'); c >= 0 {
		name = name[c+1:]
	}
	return string(name) == "stream"
}

// localName is the element's name without a prefix.
func localName(el []byte) string {
	n := 1
	for n < len(el) && el[n] != ' ' && el[n] != '>' && el[n] != '/' && el[n] != '\t' && el[n] != '\n' && el[n] != '\r' {
		n++
	}
	name := el[1:n]
	if c := bytes.IndexByte(name, ':'); c >= 0 {
		name = name[c+1:]
	}
	return string(name)
}

// attr returns the value of attribute name in the element's start tag, or
// "" (entities are not decoded).
func attr(el []byte, name string) string {
	end, ok := tagEnd(el, 1)
	if !ok {
		return ""
	}
	tag := el[:end]
	for i := 0; ; {
		k := bytes.Index(tag[i:], []byte(name+"="))
		if k < 0 {
			return ""
		}
		k += i
		i = k + len(name) + 1
		if k == 0 || (tag[k-1] != ' ' && tag[k-1] != '\t' && tag[k-1] != '\n' && tag[k-1] != '\r') || i >= len(tag) {
			continue
		}
		q := tag[i]
		if q != '\'' && q != '"' {
			continue
		}
		e := bytes.IndexByte(tag[i+1:], q)
		if e < 0 {
			return ""
		}
		return string(tag[i+1 : i+1+e])
	}
}

// childText returns the text of the first descendant element named name
// (no prefix, no attributes needed), or nil.
func childText(el []byte, name string) []byte {
	for i := 0; ; {
		k := bytes.Index(el[i:], []byte("<"+name))
		if k < 0 {
			return nil
		}
		k += i
		i = k + 1 + len(name)
		if i >= len(el) {
			return nil
		}
		if c := el[i]; c != '>' && c != ' ' && c != '/' && c != '\t' && c != '\n' && c != '\r' {
			continue // a longer name with the same beginning
		}
		gt, ok := tagEnd(el, i)
		if !ok {
			return nil
		}
		if el[gt-1] == '/' {
			return []byte{}
		}
		e := bytes.IndexByte(el[gt+1:], '<')
		if e < 0 {
			return nil
		}
		return el[gt+1 : gt+1+e]
	}
}
