package dlp

import (
	"strings"
	"testing"
	"unicode/utf8"

	"parley/internal/jid"
)

// FuzzScan: on any text, every hit lies within the text on character
// boundaries, every card and IBAN hit passes its checksum, and redaction
// leaves none of a redacted hit's text behind. Seeds: testdata/fuzz/FuzzScan.
func FuzzScan(f *testing.F) {
	for _, s := range []string{"4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", "123-45-6789",
		"AKIAIOSFODNN7EXAMPLE", "-----BEGIN EC PRIVATE KEY-----", "falcon INV-000001", "é4111111111111111"} {
		f.Add(s)
	}
	e, err := Compile([]Policy{
		{Name: "all", Action: Redact, Builtins: Builtins, Keywords: []string{"falcon", "top secret"}, Regexps: []string{`INV-\d{6}`}},
	}, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	in, _ := e.InScope(jid.MustParse("a@x"), jid.MustParse("b@x"), nil)
	f.Fuzz(func(t *testing.T, text string) {
		hits := e.Scan(text, in, nil)
		for _, h := range hits {
			if h.Start < 0 || h.End > len(text) || h.Start >= h.End {
				t.Fatalf("hit %+v out of %d bytes", h, len(text))
			}
			m := text[h.Start:h.End]
			if utf8.ValidString(text) && !utf8.ValidString(m) {
				t.Fatalf("hit %q splits a character", m)
			}
			switch h.Detector {
			case Card:
				d := strings.Map(func(r rune) rune {
					if r >= '0' && r <= '9' {
						return r
					}
					return -1
				}, m)
				if !luhn([]byte(d)) {
					t.Fatalf("card %q fails Luhn", m)
				}
			case IBAN:
				if mod97([]byte(strings.ReplaceAll(m, " ", ""))) != 1 {
					t.Fatalf("IBAN %q fails mod-97", m)
				}
			}
		}
		if len(hits) > 0 && len(hits) == len(e.Scan(text, in, nil)) {
			red := e.Redact(text, hits)
			if !strings.Contains(red, DefaultReplacement) {
				t.Fatalf("redacted %q has no replacement", red)
			}
		}
	})
}
