package dlp

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"parley/internal/jid"
)

// scan compiles one policy using det and returns what it finds in text
// as "detector:matched text" strings.
func scan(t testing.TB, p Policy, text string) []string {
	t.Helper()
	if p.Name == "" {
		p.Name = "p"
	}
	if p.Action == "" {
		p.Action = Flag
	}
	e, err := Compile([]Policy{p}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := e.InScope(jid.MustParse("a@x"), jid.MustParse("b@x"), nil)
	var out []string
	for _, h := range e.Scan(text, in, nil) {
		out = append(out, h.Detector+":"+text[h.Start:h.End])
	}
	return out
}

func TestBuiltins(t *testing.T) {
	azure := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 64)))
	pem := "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
	tests := []struct {
		det, text string
		want      []string
	}{
		// Cards: Luhn and the issuer's prefix and length.
		0:  {Card, "card 4111111111111111 ok", []string{"card:4111111111111111"}},
		1:  {Card, "4111 1111 1111 1111", []string{"card:4111 1111 1111 1111"}},
		2:  {Card, "4111-1111-1111-1111.", []string{"card:4111-1111-1111-1111"}},
		3:  {Card, "amex 3782 822463 10005", []string{"card:3782 822463 10005"}},
		4:  {Card, "mc 5555555555554444 and disc 6011111111111117", []string{"card:5555555555554444", "card:6011111111111117"}},
		5:  {Card, "4111111111111112", nil},        // Luhn fails
		6:  {Card, "1234567812345670", nil},        // Luhn passes, no issuer starts with 1
		7:  {Card, "x4111111111111111", nil},       // inside a word
		8:  {Card, "41111111111111111111111", nil}, // too long a number
		9:  {Card, "ref 12 4111 1111 1111 1111", []string{"card:4111 1111 1111 1111"}},
		10: {Card, "4111  1111 1111 1111", nil}, // two spaces split it
		// Not written as a card: a sequence number and a time.
		42: {Card, "12 4111111111111111 3", []string{"card:4111111111111111"}},
		43: {Card, "51234 5555555555554444", []string{"card:5555555555554444"}},
		44: {Card, "555 5555 5555 54444", nil},
		45: {Card, "4222222222222", nil},                // a retired 13-digit Visa
		46: {PrivateKey, "-----BEGIN PRIVATE KEY", nil}, // no closing dashes (found by FuzzScan)
		// IBAN: country length and mod-97.
		11: {IBAN, "pay DE89370400440532013000 now", []string{"iban:DE89370400440532013000"}},
		12: {IBAN, "GB82 WEST 1234 5698 7654 32", []string{"iban:GB82 WEST 1234 5698 7654 32"}},
		13: {IBAN, "DE89370400440532013001", nil}, // checksum
		14: {IBAN, "DE8937040044053201300", nil},  // length
		15: {IBAN, "ZZ89370400440532013000", nil}, // no such country
		16: {IBAN, "XDE89370400440532013000", nil},
		// US SSN: area, group, serial rules.
		17: {SSN, "ssn 123-45-6789.", []string{"us-ssn:123-45-6789"}},
		18: {SSN, "123 45 6789", []string{"us-ssn:123 45 6789"}},
		19: {SSN, "000-12-3456 666-12-3456 900-12-3456", nil},
		20: {SSN, "123-00-4567 123-45-0000 078-05-1120", nil},
		21: {SSN, "123-45 6789", nil}, // mixed separators
		22: {SSN, "123456789", nil},   // bare nine digits are too common
		// Private keys.
		23: {PrivateKey, "here:\n" + pem + "\nbye", []string{"private-key:" + pem}},
		24: {PrivateKey, "-----BEGIN OPENSSH PRIVATE KEY-----", []string{"private-key:-----BEGIN OPENSSH PRIVATE KEY-----"}},
		25: {PrivateKey, "-----BEGIN PUBLIC KEY-----\nMII\n-----END PUBLIC KEY-----", nil},
		26: {PrivateKey, "-----BEGIN CERTIFICATE-----", nil},
		// Cloud keys.
		27: {AWSKey, "key=AKIAIOSFODNN7EXAMPLE;", []string{"aws-key:AKIAIOSFODNN7EXAMPLE"}},
		28: {AWSKey, "AKIAIOSFODNN8EXAMPL1", nil}, // 8 and 1 are not base32
		29: {AWSKey, "AKIAIOSFODNN7EXAMPLEX", nil},
		30: {AWSKey, "akiaiosfodnn7example", nil},
		31: {GCPKey, "AIzaSyA-1234567890abcdefghijklmnopqrstu", []string{"gcp-key:AIzaSyA-1234567890abcdefghijklmnopqrstu"}},
		32: {GCPKey, "AIzaSyA-1234567890abcdefghijklmnopqrs", nil},
		33: {GitHub, "token ghp_" + strings.Repeat("a1B2", 9), []string{"github-token:ghp_" + strings.Repeat("a1B2", 9)}},
		34: {GitHub, "ghp_" + strings.Repeat("a1B2", 8), nil},
		35: {GitHub, "github_pat_" + strings.Repeat("a_1B", 20) + "xy", []string{"github-token:github_pat_" + strings.Repeat("a_1B", 20) + "xy"}},
		36: {Slack, "xoxb-1234567890-1234567890123-abcdefghijklmnopqrstuvwx", []string{"slack-token:xoxb-1234567890-1234567890123-abcdefghijklmnopqrstuvwx"}},
		37: {Slack, "xoxb-12345-1234567890123-abcdefghijklmnopqrstuvwx", nil},
		38: {AzureKey, "DefaultEndpointsProtocol=https;AccountKey=" + azure + ";EndpointSuffix", []string{"azure-key:AccountKey=" + azure}},
		39: {AzureKey, "AccountKey=" + strings.Repeat("A", 88), nil}, // 66 bytes, not 64
		40: {AzureKey, "AccountKey=" + strings.Repeat("!", 88), nil},
		41: {CloudKey, "AKIAIOSFODNN7EXAMPLE ghp_" + strings.Repeat("a1B2", 9), []string{"aws-key:AKIAIOSFODNN7EXAMPLE", "github-token:ghp_" + strings.Repeat("a1B2", 9)}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got := scan(t, Policy{Builtins: []string{tc.det}}, tc.text)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("%s in %q: %q, want %q", tc.det, tc.text, got, tc.want)
			}
		})
	}
}

func TestLuhnAndMod97(t *testing.T) {
	for _, n := range []string{"79927398713", "4111111111111111", "0"} {
		if !luhn([]byte(n)) {
			t.Errorf("luhn(%s) = false", n)
		}
	}
	for _, n := range []string{"79927398710", "4111111111111121"} {
		if luhn([]byte(n)) {
			t.Errorf("luhn(%s) = true", n)
		}
	}
	if r := mod97([]byte("GB82WEST12345698765432")); r != 1 {
		t.Errorf("mod97 = %d, want 1", r)
	}
}

func TestKeywordsAndRegexps(t *testing.T) {
	p := Policy{Keywords: []string{"Project Falcon", "merger", "ünter"}, Regexps: []string{`INV-\d{6}`, `(?i)top secret`}}
	tests := []struct {
		text string
		want []string
	}{
		0: {"about project FALCON today", []string{"keyword:project FALCON"}},
		1: {"the Mergers", nil}, // whole words only
		2: {"premerger", nil},
		3: {"merger.", []string{"keyword:merger"}},
		4: {"ünter den", []string{"keyword:ünter"}},
		5: {"invoice INV-123456 TOP SECRET", []string{"regexp:INV-123456", "regexp:TOP SECRET"}},
		6: {"INV-12345", nil},
		7: {"", nil},
	}
	for i, tc := range tests {
		got := scan(t, p, tc.text)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%d: %q: %q, want %q", i, tc.text, got, tc.want)
		}
	}
}

func TestScopeActionRedact(t *testing.T) {
	groups := map[string][]string{"traders": {"t1@x", "t2@x"}}
	ps := []Policy{
		{Name: "cards", Action: Redact, Builtins: []string{Card}, Replacement: "[card]"},
		{Name: "falcon", Action: Block, Keywords: []string{"falcon"}, Groups: []string{"traders"}, Rooms: []string{"deals@conference.x"}},
		{Name: "watch", Action: Flag, Keywords: []string{"falcon", "card"}, Users: []string{"boss@x"}},
	}
	e, err := Compile(ps, nil, groups)
	if err != nil {
		t.Fatal(err)
	}
	text := "falcon card 4111111111111111 and 5555 5555 5555 4444"
	tests := []struct {
		from, to string
		action   string
		policies string
	}{
		0: {"a@x", "b@x", Redact, "cards,cards"},
		1: {"t1@x", "b@x", Block, "falcon,cards,cards"},
		2: {"a@x", "deals@conference.x", Block, "falcon,cards,cards"},
		3: {"boss@x", "b@x", Redact, "watch,watch,cards,cards"},
	}
	for i, tc := range tests {
		in, any := e.InScope(jid.MustParse(tc.from), jid.MustParse(tc.to), nil)
		if !any {
			t.Fatalf("%d: nothing in scope", i)
		}
		hits := e.Scan(text, in, nil)
		var names []string
		for _, h := range hits {
			p, _ := e.Policy(h.Policy)
			names = append(names, p.Name)
		}
		if got := e.Decide(hits); got != tc.action || strings.Join(names, ",") != tc.policies {
			t.Errorf("%d: %s by %v, want %s by %s", i, got, names, tc.action, tc.policies)
		}
		if tc.action == Redact {
			if got, want := e.Redact(text, hits), "falcon card [card] and [card]"; got != want {
				t.Errorf("%d: redacted %q, want %q", i, got, want)
			}
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		p    Policy
		want string
	}{
		0: {Policy{Name: "a b", Action: Flag, Keywords: []string{"x"}}, "name"},
		1: {Policy{Name: "a", Action: "shout", Keywords: []string{"x"}}, "action"},
		2: {Policy{Name: "a", Action: Flag}, "detects nothing"},
		3: {Policy{Name: "a", Action: Flag, Builtins: []string{"passport"}}, "not a built-in"},
		4: {Policy{Name: "a", Action: Flag, Regexps: []string{"("}}, "regexps"},
		5: {Policy{Name: "a", Action: Flag, Regexps: []string{"x*"}}, "empty text"},
		6: {Policy{Name: "a", Action: Flag, Keywords: []string{" "}}, "keyword"},
		7: {Policy{Name: "a", Action: Flag, Keywords: []string{"x"}, Users: []string{"example.com"}}, "bare JID"},
		8: {Policy{Name: "a", Action: Flag, Keywords: []string{"x"}, Groups: []string{"nobody"}}, "not a group"},
	}
	for i, tc := range tests {
		_, err := Compile([]Policy{tc.p}, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d: %v, want an error about %q", i, err, tc.want)
		}
	}
	p := Policy{Name: "a", Action: Flag, Keywords: []string{"x"}}
	if _, err := Compile([]Policy{p, p}, nil, nil); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a name twice: %v", err)
	}
}

func TestRequiredLiterals(t *testing.T) {
	tests := []struct{ re, want string }{
		0: {`INV-\d{6}`, "inv-"},
		1: {`\b[A-Z]{3,5}\.(?:N|OQ|L)\b`, ".l|.n|.oq"},
		2: {`MRN[:# ]?\d{7}`, "mrn"},
		3: {`(?i)top secret`, "top secret"},
		4: {`\d+`, ""},
		5: {`a|\d`, ""},
		6: {`(?:foo|bar)baz`, "barbaz|foobaz"},
		7: {`x*`, ""},
		8: {`(?i)ünter`, ""},
	}
	for i, tc := range tests {
		if got := strings.Join(requiredLiterals(tc.re), "|"); got != tc.want {
			t.Errorf("%d: %s: %q, want %q", i, tc.re, got, tc.want)
		}
	}
}
