package jid

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that whatever Parse accepts is a fixed point: its string
// form parses to the same JID, New rebuilds it from its parts, the parts
// respect the RFC 7622 limits, and every rejection is ErrMalformed.
func FuzzParse(f *testing.F) {
	for _, tc := range validTests {
		f.Add(tc.in)
	}
	for _, s := range invalidTests {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q): error %v is not ErrMalformed", s, err)
			}
			return
		}
		str := j.String()
		if !utf8.ValidString(str) {
			t.Fatalf("Parse(%q) = %q: invalid UTF-8", s, str)
		}
		k, err := Parse(str)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, str, err)
		}
		if k != j || k.String() != str {
			t.Fatalf("Parse(%q) = %q, reparsed as %q", s, str, k)
		}
		n, err := New(j.Local(), j.Domain(), j.Resource())
		if err != nil || n != j {
			t.Fatalf("New(parts of %q) = %q, %v", str, n, err)
		}
		for _, p := range []string{j.Domain(), j.Local(), j.Resource()} {
			if len(p) > maxPart {
				t.Fatalf("Parse(%q): part of %d bytes", s, len(p))
			}
		}
		if j.Domain() == "" {
			t.Fatalf("Parse(%q) = %q without a domain", s, str)
		}
		if b := j.Bare(); b.Resource() != "" || b.Local() != j.Local() || b.Domain() != j.Domain() {
			t.Fatalf("Bare of %q = %q", str, b)
		}
	})
}
