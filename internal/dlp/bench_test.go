package dlp

import (
	"fmt"
	"testing"

	"parley/internal/jid"
)

// BenchRules are 20 policies of the kind a regulated site runs: the
// built-ins, keyword lists and regular expressions (also used by the
// load generator's -dlp comparison in docs/BENCHMARKS.md).
func BenchRules() []Policy {
	ps := []Policy{
		{Name: "cards", Action: Block, Builtins: []string{Card}},
		{Name: "iban", Action: Redact, Builtins: []string{IBAN}},
		{Name: "ssn", Action: Redact, Builtins: []string{SSN}},
		{Name: "keys", Action: Block, Builtins: []string{PrivateKey, CloudKey}},
		{Name: "tickers", Action: Flag, Regexps: []string{`\b[A-Z]{3,5}\.(?:N|OQ|L)\b`}},
		{Name: "invoices", Action: Flag, Regexps: []string{`INV-\d{6}`}},
		{Name: "phone", Action: Flag, Regexps: []string{`\+\d{2} \d{3} \d{3} \d{4}`}},
		{Name: "mrn", Action: Redact, Regexps: []string{`MRN[:# ]?\d{7}`}},
	}
	for i := len(ps); i < 20; i++ {
		var kw []string
		for k := range 10 {
			kw = append(kw, fmt.Sprintf("codeword%d%d", i, k))
		}
		kw = append(kw, "project falcon", "insider", "guaranteed return")
		ps = append(ps, Policy{Name: fmt.Sprintf("words%d", i), Action: Flag, Keywords: kw})
	}
	return ps
}

func BenchmarkScan(b *testing.B) {
	e, err := Compile(BenchRules(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	in, _ := e.InScope(jid.MustParse("a@x"), jid.MustParse("b@x"), nil)
	for _, tc := range []struct{ name, text string }{
		{"chat-80B", "hey, are we still on for lunch tomorrow at 12:30? bring the Q3 numbers please"},
		{"chat-1KiB", string(make1K())},
		{"hit-card", "my card is 4111 1111 1111 1111, exp 12/29"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.text)))
			var hits []Hit
			for b.Loop() {
				hits = e.Scan(tc.text, in, hits[:0])
			}
		})
	}
}

func make1K() []byte {
	s := "The quarterly review moved to Thursday; 3 items on the agenda, 12 attendees. "
	var out []byte
	for len(out) < 1024 {
		out = append(out, s...)
	}
	return out[:1024]
}
