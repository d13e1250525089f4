package stanza

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"time"

	"parley/internal/xmlstream"
)

// AddChild appends a child element to the stanza by splicing its
// serialisation before the closing tag, leaving the rest of the bytes as
// they were (used for delay stamps and stanza ids).
func (s *Stanza) AddChild(child *xmlstream.Element) {
	raw := s.Bytes()
	s.El.Children = append(s.El.Children, child)
	var tmp [256]byte // small children are serialised on the stack
	s.El.Raw = insertChild(raw, xmlstream.AppendIn(tmp[:0], child, NSClient))
}

// RemoveChildren drops the children for which drop returns true and
// re-serialises the stanza if any was dropped.
func (s *Stanza) RemoveChildren(drop func(*xmlstream.Element) bool) {
	i := 0
	for i < len(s.El.Children) && !drop(s.El.Children[i]) {
		i++
	}
	if i == len(s.El.Children) {
		return // the common case: nothing to drop, nothing to allocate
	}
	kept := s.El.Children[:0:0]
	for _, c := range s.El.Children {
		if !drop(c) {
			kept = append(kept, c)
		}
	}
	if len(kept) != len(s.El.Children) {
		s.El.Children = kept
		s.El.Raw = nil
	}
}

// insertChild returns a new buffer with child placed before the root's end
// tag, turning a self-closing root into an open/close pair.
func insertChild(raw, child []byte) []byte {
	raw = bytes.TrimRight(raw, " \t\r\n")
	out := make([]byte, 0, len(raw)+len(child)+16)
	if bytes.HasSuffix(raw, []byte("/>")) {
		// <name .../> has no end tag: write <name ...>child</name>.
		nameEnd := bytes.IndexAny(raw[1:], " \t\r\n/>") + 1
		out = append(out, raw[:len(raw)-2]...)
		out = append(out, '>')
		out = append(out, child...)
		out = append(out, "</"...)
		out = append(out, raw[1:nameEnd]...)
		return append(out, '>')
	}
	end := bytes.LastIndexByte(raw, '<')
	out = append(out, raw[:end]...)
	out = append(out, child...)
	return append(out, raw[end:]...)
}

// NewID returns a unique id that sorts by creation time: 48 bits of
// milliseconds and 32 random bits, base32 (hex alphabet, which preserves
// order). Used for XEP-0359 stanza ids and generated resources.
func NewID() string { return newID(time.Now()) }

func newID(now time.Time) string {
	var b [10]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:])
	const alphabet = "0123456789abcdefghijklmnopqrstuv"
	var out [16]byte
	var acc uint64
	bits := 0
	j := 0
	for _, c := range b {
		acc = acc<<8 | uint64(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out[j] = alphabet[(acc>>bits)&31]
			j++
		}
	}
	return string(out[:j])
}
