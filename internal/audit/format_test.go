package audit

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 2, 13, 4, 5, 123456789, time.UTC)

// TestCEFEscaping: the CEF specification's escapes, header and extension.
func TestCEFEscaping(t *testing.T) {
	tests := []struct{ in, header, value string }{
		0: {`plain`, `plain`, `plain`},
		1: {`a|b`, `a\|b`, `a|b`},
		2: {`a\b`, `a\\b`, `a\\b`},
		3: {`a=b`, `a=b`, `a\=b`},
		4: {"a\nb", "a b", `a\nb`},
		5: {"a\rb", "a b", `a\rb`},
		6: {"a\r\nb", "a b", `a\r\nb`},
		7: {`\|=`, `\\\|=`, `\\|\=`},
		8: {`ü`, `ü`, `ü`},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := cefHeader(tc.in); got != tc.header {
				t.Errorf("cefHeader(%q) = %q, want %q", tc.in, got, tc.header)
			}
			if got := cefValue(tc.in); got != tc.value {
				t.Errorf("cefValue(%q) = %q, want %q", tc.in, got, tc.value)
			}
		})
	}
}

func TestFormatCEF(t *testing.T) {
	r := Record{Seq: 42, Time: t0, Actor: "eve=admin@example.com", Action: ActionLoginFailed, Target: "a|b",
		IP: "2001:db8::1", Outcome: OutcomeFailure, RequestID: "req\n1", Details: map[string]string{"mechanism": "PLAIN"},
		Hash: []byte{0xab, 0xcd}}
	got := string(formatCEF(r, "1.2|3"))
	want := `CEF:0|parley|parley|1.2\|3|login-failed|Login failed|7|rt=1796216645123 externalId=42 suser=eve\=admin@example.com ` +
		`duser=a|b outcome=failure c6a2=2001:db8::1 c6a2Label=Source IPv6 Address cs1=req\n1 cs1Label=requestId ` +
		`cs2=abcd cs2Label=hash msg={"mechanism":"PLAIN"}`
	if got != want {
		t.Fatalf("formatCEF =\n%s\nwant\n%s", got, want)
	}
	r.IP = "::ffff:192.0.2.9"
	if got := string(formatCEF(r, "1")); !strings.Contains(got, " src=192.0.2.9 ") {
		t.Fatalf("IPv4-mapped address not in src: %s", got)
	}
}

// TestFormatSyslog: RFC 5424 §6 header fields, SD-PARAM escaping, the
// BOM before a UTF-8 MSG, and RFC 6587 octet counting.
func TestFormatSyslog(t *testing.T) {
	h := syslogHeader{facility: 13, hostname: "host name\x01", appName: "parley", procID: "77"}
	r := Record{Seq: 9, Time: t0, Action: ActionLogin, Outcome: `a"b]c\`}
	got := string(formatSyslog(h, r, []byte(`{"x":1}`)))
	want := `<109>1 2026-12-02T13:04:05.123456Z hostname parley 77 login [parley@32473 seq="9" outcome="a\"b\]c\\"] {"x":1}`
	if got != want {
		t.Fatalf("formatSyslog =\n%s\nwant\n%s", got, want)
	}
	r.Outcome, h.hostname = OutcomeFailure, ""
	got = string(formatSyslog(h, r, []byte("ü")))
	if !strings.HasPrefix(got, "<108>1 ") || !strings.Contains(got, " - parley ") || !strings.HasSuffix(got, "] \uFEFFü") {
		t.Fatalf("formatSyslog = %q: want severity warning, NILVALUE hostname, BOM before UTF-8", got)
	}
	if got := string(frame([]byte("héllo"))); got != "6 héllo" {
		t.Fatalf("frame = %q", got)
	}
}

// TestFormatJSON: forwarded JSON is plain ASCII and decodes to the record.
func TestFormatJSON(t *testing.T) {
	r := Record{Seq: 3, Time: t0, Actor: "jürgen@example.com", Action: ActionLogin, Target: "😀", Prev: make([]byte, 32)}
	r.Hash = r.ComputeHash()
	b := formatJSON(r)
	for _, c := range b {
		if c >= 0x80 {
			t.Fatalf("non-ASCII byte in %s", b)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["actor"] != r.Actor || got["target"] != r.Target || got["seq"] != 3.0 || got["time"] != "2026-12-02T13:04:05.123456789Z" {
		t.Fatalf("decoded %v", got)
	}
}

// FuzzCEFValue: an escaped value has no bare separator or line break and
// unescapes to what went in.
func FuzzCEFValue(f *testing.F) {
	for _, s := range []string{"", "a=b", `\`, "x\r\ny", `\=\n`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := cefValue(s)
		if strings.ContainsAny(e, "\r\n") {
			t.Fatalf("cefValue(%q) = %q has a line break", s, e)
		}
		var out strings.Builder
		for i := 0; i < len(e); i++ {
			c := e[i]
			if c == '=' {
				t.Fatalf("cefValue(%q) = %q has a bare '='", s, e)
			}
			if c != '\\' {
				out.WriteByte(c)
				continue
			}
			i++
			if i == len(e) {
				t.Fatalf("cefValue(%q) = %q ends in a lone backslash", s, e)
			}
			switch e[i] {
			case 'n':
				out.WriteByte('\n')
			case 'r':
				out.WriteByte('\r')
			default:
				out.WriteByte(e[i])
			}
		}
		if out.String() != s {
			t.Fatalf("unescape(cefValue(%q)) = %q", s, out.String())
		}
	})
}
