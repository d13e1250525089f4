package xmlstream

import (
	"bytes"
	"unicode/utf8"
)

// Byte classes for the fast scan of character data. A zero entry is a byte
// that can be kept as is; anything else sends the scanner to the slow path,
// which validates UTF-8 and XML characters or marks the run for decoding.
var (
	textClass  [256]uint8 // element content
	attrClass  [256]uint8 // attribute values
	nameClass  [256]uint8 // 1: name character, 2: also a name start
	spaceClass [256]bool
)

func init() {
	for c := 0; c < 256; c++ {
		if c < 0x20 || c >= 0x80 {
			textClass[c], attrClass[c] = 1, 1
		}
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':', c >= 0x80:
			nameClass[c] = 2
		case c >= '0' && c <= '9', c == '-', c == '.':
			nameClass[c] = 1
		}
	}
	// Tab and newline are plain text but are normalised to spaces in
	// attribute values (XML 1.0 §3.3.3).
	textClass['\t'], textClass['\n'] = 0, 0
	textClass['&'], textClass[']'] = 1, 1
	attrClass['&'], attrClass['<'] = 1, 1
	for _, c := range []byte(" \t\r\n") {
		spaceClass[c] = true
	}
}

// run modes for checkChars and decode.
const (
	modeText = iota
	modeAttr
	modeCDATA
)

// checkChars validates a run of character data and reports whether it has
// to be decoded (entity references, CR line ends, attribute whitespace)
// rather than viewed as is.
func checkChars(s []byte, mode int) (decode bool, err error) {
	tbl := &textClass
	if mode == modeAttr {
		tbl = &attrClass
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if tbl[c] == 0 {
			continue
		}
		switch {
		case c >= 0x80:
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				return false, errNWF("invalid UTF-8")
			}
			if r == 0xFFFE || r == 0xFFFF {
				return false, errNWF("character not allowed in XML")
			}
			i += n - 1
		case c == '&':
			if mode != modeCDATA {
				decode = true
			}
		case c == '\r', c == '\t', c == '\n':
			decode = true
		case c == ']':
			if mode == modeText && bytes.HasPrefix(s[i:], []byte("]]>")) {
				return false, errNWF("']]>' in character data")
			}
		case c == '<':
			return false, errNWF("'<' in attribute value")
		default:
			return false, errNWF("control character not allowed in XML")
		}
	}
	return decode, nil
}

// decode appends the decoded form of a run that checkChars accepted.
func decode(dst, s []byte, mode int) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '&' && mode != modeCDATA:
			j := bytes.IndexByte(s[i:], ';')
			if j < 0 {
				return dst, errNWF("unterminated entity reference")
			}
			var err error
			dst, err = appendEntity(dst, s[i+1:i+j])
			if err != nil {
				return dst, err
			}
			i += j
		case c == '\r':
			// XML 1.0 §2.11: CRLF and lone CR become LF.
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			if mode == modeAttr {
				dst = append(dst, ' ')
			} else {
				dst = append(dst, '\n')
			}
		case (c == '\t' || c == '\n') && mode == modeAttr:
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst, nil
}

// appendEntity decodes the reference between '&' and ';'. Only the five
// predefined entities and character references exist in restricted XML
// (RFC 6120 §11.1): any other well-formed name is a reference to an entity
// that only a DTD could declare, so it is restricted-xml, never expanded.
func appendEntity(dst, ent []byte) ([]byte, error) {
	switch string(ent) {
	case "lt":
		return append(dst, '<'), nil
	case "gt":
		return append(dst, '>'), nil
	case "amp":
		return append(dst, '&'), nil
	case "quot":
		return append(dst, '"'), nil
	case "apos":
		return append(dst, '\''), nil
	}
	if len(ent) > 1 && ent[0] == '#' {
		digits, base := ent[1:], rune(10)
		if digits[0] == 'x' {
			digits, base = digits[1:], 16
		}
		if len(digits) == 0 || len(digits) > 8 {
			return dst, errNWF("bad character reference")
		}
		var r rune
		for _, d := range digits {
			var v rune
			switch {
			case d >= '0' && d <= '9':
				v = rune(d - '0')
			case base == 16 && d >= 'a' && d <= 'f':
				v = rune(d-'a') + 10
			case base == 16 && d >= 'A' && d <= 'F':
				v = rune(d-'A') + 10
			default:
				return dst, errNWF("bad character reference")
			}
			r = r*base + v
		}
		if !isXMLChar(r) {
			return dst, errNWF("character reference to a character XML forbids")
		}
		return utf8.AppendRune(dst, r), nil
	}
	if len(ent) > 0 && nameEnd(ent, 0) == len(ent) {
		return dst, errRestricted("reference to undeclared entity")
	}
	return dst, errNWF("bad entity reference")
}

// isXMLChar reports whether r is a Char of XML 1.0 §2.2.
func isXMLChar(r rune) bool {
	switch {
	case r == 0x9 || r == 0xA || r == 0xD:
		return true
	case r >= 0x20 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// nameEnd returns the end of the XML name starting at b[i], or i if there
// is none. Non-ASCII name characters are accepted as any valid UTF-8
// (a superset of XML 1.0's NameChar ranges).
func nameEnd(b []byte, i int) int {
	if i >= len(b) || nameClass[b[i]] != 2 {
		return i
	}
	start, ascii := i, true
	for i < len(b) && nameClass[b[i]] != 0 {
		if b[i] >= 0x80 {
			ascii = false
		}
		i++
	}
	if !ascii && !utf8.Valid(b[start:i]) {
		return start
	}
	return i
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && spaceClass[b[i]] {
		i++
	}
	return i
}

// CutText cuts s to at most n bytes without splitting a character: text
// taken from a stanza (a status, a report's reason) kept under a byte
// limit stays valid UTF-8.
func CutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
