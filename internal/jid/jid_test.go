package jid

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// RFC 7622 §3.5.1 (valid) plus normalisation cases; want is the normalised
// string form.
var validTests = []struct {
	in, want                string
	local, domain, resource string
}{
	0:  {"juliet@example.com", "juliet@example.com", "juliet", "example.com", ""},
	1:  {"juliet@example.com/foo", "juliet@example.com/foo", "juliet", "example.com", "foo"},
	2:  {"juliet@example.com/foo bar", "juliet@example.com/foo bar", "juliet", "example.com", "foo bar"},
	3:  {"juliet@example.com/foo@bar", "juliet@example.com/foo@bar", "juliet", "example.com", "foo@bar"},
	4:  {`foo\20bar@example.com`, `foo\20bar@example.com`, `foo\20bar`, "example.com", ""},
	5:  {"fussball@example.com", "fussball@example.com", "fussball", "example.com", ""},
	6:  {"fußball@example.com", "fußball@example.com", "fußball", "example.com", ""},
	7:  {"π@example.com", "π@example.com", "π", "example.com", ""},
	8:  {"Σ@example.com/foo", "σ@example.com/foo", "σ", "example.com", "foo"},
	9:  {"σ@example.com/foo", "σ@example.com/foo", "σ", "example.com", "foo"},
	10: {"ς@example.com/foo", "ς@example.com/foo", "ς", "example.com", "foo"},
	11: {"king@example.com/♚", "king@example.com/♚", "king", "example.com", "♚"},
	12: {"example.com", "example.com", "", "example.com", ""},
	13: {"example.com/foobar", "example.com/foobar", "", "example.com", "foobar"},
	14: {"a.example.com/b@example.net", "a.example.com/b@example.net", "", "a.example.com", "b@example.net"},
	// Case folding of local and domain, never of the resource.
	15: {"JULIET@EXAMPLE.COM/Balcony", "juliet@example.com/Balcony", "juliet", "example.com", "Balcony"},
	// §3.2: one trailing dot is stripped.
	16: {"juliet@example.com.", "juliet@example.com", "juliet", "example.com", ""},
	17: {"juliet@example.com./r", "juliet@example.com/r", "juliet", "example.com", "r"},
	// §3.1: the first '/' splits; later '/' and '@' belong to the resource.
	18: {"a/b@c", "a/b@c", "", "a", "b@c"},
	19: {"a@b/c/d", "a@b/c/d", "a", "b", "c/d"},
	// IP literals; IPv6 is canonicalised (RFC 5952).
	20: {"[::1]", "[::1]", "", "[::1]", ""},
	21: {"u@[0:0:0::1]/r", "u@[::1]/r", "u", "[::1]", "r"},
	22: {"u@[2001:DB8::1]", "u@[2001:db8::1]", "u", "[2001:db8::1]", ""},
	23: {"u@127.0.0.1", "u@127.0.0.1", "u", "127.0.0.1", ""},
	// IDNA2008: U-labels, A-labels decoded, mapped dots and case.
	24: {"u@münchen.de", "u@münchen.de", "u", "münchen.de", ""},
	25: {"u@MÜNCHEN.DE", "u@münchen.de", "u", "münchen.de", ""},
	26: {"u@xn--mnchen-3ya.de", "u@münchen.de", "u", "münchen.de", ""},
	27: {"u@example。com", "u@example.com", "u", "example.com", ""},
	28: {"u@example.com。", "u@example.com", "u", "example.com", ""},
	// PRECIS width mapping of the localpart (fullwidth to ASCII).
	29: {"ｊｕｌｉｅｔ@example.com", "juliet@example.com", "juliet", "example.com", ""},
	// OpaqueString maps non-ASCII spaces to U+0020 and keeps case.
	30: {"u@example.com/a\u00a0B", "u@example.com/a B", "u", "example.com", "a B"},
	31: {strings.Repeat("a", 1023) + "@x", strings.Repeat("a", 1023) + "@x", strings.Repeat("a", 1023), "x", ""},
	32: {"x/" + strings.Repeat("r", 1023), "x/" + strings.Repeat("r", 1023), "", "x", strings.Repeat("r", 1023)},
	33: {"localhost", "localhost", "", "localhost", ""},
	// NFC of the resource: e + combining acute becomes é.
	34: {"u@x/e\u0301", "u@x/\u00e9", "u", "x", "\u00e9"},
}

func TestParseValid(t *testing.T) {
	for i, tc := range validTests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			j, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if j.String() != tc.want || j.Local() != tc.local || j.Domain() != tc.domain || j.Resource() != tc.resource {
				t.Fatalf("Parse(%q) = %q (%q, %q, %q), want %q (%q, %q, %q)", tc.in,
					j, j.Local(), j.Domain(), j.Resource(), tc.want, tc.local, tc.domain, tc.resource)
			}
			k, err := Parse(j.String())
			if err != nil || k != j {
				t.Fatalf("reparse of %q = %q, %v", j, k, err)
			}
			n, err := New(tc.local, tc.domain, tc.resource)
			if err != nil || n != j {
				t.Fatalf("New(%q, %q, %q) = %q, %v; want %q", tc.local, tc.domain, tc.resource, n, err, j)
			}
		})
	}
}

// RFC 7622 §3.5.2 (invalid) and more.
var invalidTests = []string{
	0:  "@example.com/",
	1:  "henry\u2163@example.com",
	2:  "\u265a@example.com",
	3:  "juliet@",
	4:  "/foobar",
	5:  "",
	6:  "@example.com",
	7:  "juliet@example.com/",
	8:  "a@b@c",
	9:  "a b@c",
	10: `a"b@c`,
	11: "a&b@c",
	12: "a'b@c",
	13: "a:b@c",
	14: "a<b@c",
	15: "a>b@c",
	16: "example.com..",
	17: ".",
	18: "a..b",
	19: ".a",
	20: "[::1",
	21: "[1.2.3.4]",
	22: "[fe80::1%eth0]",
	23: "-abc.com",
	24: "abc-.com",
	25: "ex_ample.com",
	26: "u@x/\x00",
	27: "\xff@example.com",
	28: "u@\xff",
	29: "u@x/\xff",
	30: strings.Repeat("a", 1024) + "@x",
	31: "x/" + strings.Repeat("r", 1024),
	32: strings.Repeat("d", 1024),
	33: strings.Repeat("a", maxInput+1),
	34: "u@exa mple.com",
	35: "u@xn--.com",
	36: "u@x/\u0007bell",
	37: "u@ab--cd.com",
}

func TestParseInvalid(t *testing.T) {
	for i, in := range invalidTests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			j, err := Parse(in)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error", in, j)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) error %v does not match ErrMalformed", in, err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Part == "" {
				t.Fatalf("Parse(%q) error %v is not a *Error with a part", in, err)
			}
			if !j.IsZero() {
				t.Fatalf("Parse(%q) returned non-zero JID %q with error", in, j)
			}
		})
	}
}

func TestNewInvalid(t *testing.T) {
	for i, tc := range []struct{ l, d, r string }{
		0: {"a", "", ""},
		1: {"a@b", "x", ""},
		2: {"", "x/y", ""},
		3: {"", "x@y", ""},
		4: {"", "x", "\x01"},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if j, err := New(tc.l, tc.d, tc.r); !errors.Is(err, ErrMalformed) {
				t.Fatalf("New(%q, %q, %q) = %q, %v; want ErrMalformed", tc.l, tc.d, tc.r, j, err)
			}
		})
	}
}

func TestParts(t *testing.T) {
	full := MustParse("Juliet@Example.com/Balcony")
	bare := MustParse("juliet@example.com")
	dom := MustParse("example.com")
	for i, tc := range []struct {
		j                      JID
		zero, isBare, isDomain bool
		bare, domain, withRes  string
	}{
		0: {full, false, false, false, "juliet@example.com", "example.com", "juliet@example.com/r"},
		1: {bare, false, true, false, "juliet@example.com", "example.com", "juliet@example.com/r"},
		2: {dom, false, true, true, "example.com", "example.com", "example.com/r"},
		3: {MustParse("example.com/x"), false, false, false, "example.com", "example.com", "example.com/r"},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if tc.j.IsZero() != tc.zero || tc.j.IsBare() != tc.isBare || tc.j.IsDomain() != tc.isDomain {
				t.Fatalf("%q: IsZero/IsBare/IsDomain = %v/%v/%v", tc.j, tc.j.IsZero(), tc.j.IsBare(), tc.j.IsDomain())
			}
			if b := tc.j.Bare(); b.String() != tc.bare || b != MustParse(tc.bare) {
				t.Fatalf("%q.Bare() = %q, want %q", tc.j, b, tc.bare)
			}
			if d := tc.j.DomainJID(); d.String() != tc.domain || d != MustParse(tc.domain) || !d.IsDomain() {
				t.Fatalf("%q.DomainJID() = %q, want %q", tc.j, d, tc.domain)
			}
			w, err := tc.j.WithResource("R\u00a0")
			if err != nil || w.Resource() != "R " || w.Bare() != tc.j.Bare() {
				t.Fatalf("%q.WithResource = %q, %v", tc.j, w, err)
			}
			if w, err := tc.j.WithResource("r"); err != nil || w.String() != tc.withRes || w != MustParse(tc.withRes) {
				t.Fatalf("%q.WithResource(r) = %q, %v; want %q", tc.j, w, err, tc.withRes)
			}
			if w, err := tc.j.WithResource(""); err != nil || w != tc.j.Bare() {
				t.Fatalf("%q.WithResource(\"\") = %q, %v", tc.j, w, err)
			}
			if _, err := tc.j.WithResource("\x00"); !errors.Is(err, ErrMalformed) {
				t.Fatalf("%q.WithResource(NUL) error %v", tc.j, err)
			}
		})
	}
	if !full.Equal(MustParse("juliet@example.com/Balcony")) || full.Equal(MustParse("juliet@example.com/balcony")) {
		t.Fatal("Equal: resource must compare case-sensitively, the rest after folding")
	}
	var z JID
	if !z.IsZero() || z.IsBare() || z.IsDomain() || z.String() != "" || z.Local() != "" || z.Domain() != "" || z.Resource() != "" {
		t.Fatal("zero JID accessors")
	}
	if _, err := z.WithResource("r"); !errors.Is(err, ErrMalformed) {
		t.Fatalf("zero.WithResource: %v", err)
	}
}

func TestMapKey(t *testing.T) {
	m := map[JID]int{MustParse("JULIET@example.com/a"): 1}
	if m[MustParse("juliet@EXAMPLE.com./a")] != 1 {
		t.Fatal("equal addresses are not the same map key")
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MustParse of an invalid address did not panic")
		}
	}()
	MustParse("@")
}

func TestText(t *testing.T) {
	j := MustParse("u@x/r")
	b, _ := j.MarshalText()
	var k JID
	if err := k.UnmarshalText(b); err != nil || k != j {
		t.Fatalf("text round trip: %q, %v", k, err)
	}
	if err := k.UnmarshalText(nil); err != nil || !k.IsZero() {
		t.Fatalf("empty text: %q, %v", k, err)
	}
	if err := k.UnmarshalText([]byte("@x")); !errors.Is(err, ErrMalformed) {
		t.Fatalf("bad text: %v", err)
	}
}

// The fast path is the point of storing one string: an already normalised
// ASCII address must cost nothing but the JID value.
func TestParseNoAlloc(t *testing.T) {
	for i, s := range []string{"juliet@example.com/balcony", "example.com", "[::1]"} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			var j JID
			n := testing.AllocsPerRun(100, func() { j, _ = Parse(s) })
			if n != 0 {
				t.Fatalf("Parse(%q) allocates %v times", s, n)
			}
			n = testing.AllocsPerRun(100, func() { _ = j.Bare().DomainJID().String() })
			if n != 0 {
				t.Fatalf("Bare/DomainJID allocate %v times", n)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	for _, s := range []string{"juliet@example.com/balcony", "JULIET@example.com/balcony", "fußball@münchen.de/♚"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
