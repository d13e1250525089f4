package dlp

import (
	"encoding/base64"
	"strings"
)

// The built-in detectors. Each validates a candidate rather than only
// matching a shape: a number that fails its checksum is not reported.
const (
	Card       = "card"        // payment card numbers: IIN ranges and the Luhn check (ISO/IEC 7812)
	IBAN       = "iban"        // international bank account numbers: country length and mod-97 (ISO 13616)
	SSN        = "us-ssn"      // US social security numbers written AAA-GG-SSSS, by the SSA's rules
	PrivateKey = "private-key" // PEM private keys (RFC 7468), OpenSSH and PGP key blocks
	AWSKey     = "aws-key"     // AWS access key ids (AKIA..., base32)
	GCPKey     = "gcp-key"     // Google Cloud API keys (AIza...)
	AzureKey   = "azure-key"   // Azure storage account keys (AccountKey=<64 bytes base64>)
	GitHub     = "github-token"
	Slack      = "slack-token"
	// CloudKey names every cloud and developer-platform key detector at
	// once (AWS, GCP, Azure, GitHub, Slack).
	CloudKey = "cloud-key"
)

// Builtins lists the built-in detector names a policy may use.
var Builtins = []string{Card, IBAN, SSN, PrivateKey, AWSKey, GCPKey, AzureKey, GitHub, Slack, CloudKey}

// expand resolves a group name to the detectors it stands for.
func expand(name string) []string {
	if name == CloudKey {
		return []string{AWSKey, GCPKey, AzureKey, GitHub, Slack}
	}
	return []string{name}
}

// triggers are the literal prefixes (lowercase: the automaton folds ASCII
// case) at which a token-shaped detector is tried.
var triggers = map[string][]string{
	PrivateKey: {"-----begin "},
	AWSKey:     {"akia", "asia", "abia", "acca"},
	GCPKey:     {"aiza"},
	AzureKey:   {"accountkey="},
	GitHub:     {"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
	Slack:      {"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-"},
}

// tokenAt validates the token-shaped detector det whose trigger starts at
// i in s; it returns the end of the match.
func tokenAt(det, s string, i int) (end int, ok bool) {
	if i > 0 && isWord(s[i-1]) && det != AzureKey && det != PrivateKey {
		return 0, false // inside a longer word
	}
	switch det {
	case AWSKey:
		// Four-letter prefix and 16 characters of base32 (A-Z, 2-7),
		// upper case as AWS writes them.
		return fixed(s, i, 20, func(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '2' && c <= '7' }, "AKIA", "ASIA", "ABIA", "ACCA")
	case GCPKey:
		return fixed(s, i, 39, func(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }, "AIza")
	case GitHub:
		if strings.HasPrefix(s[i:], "github_pat_") {
			return fixed(s, i, 11+82, func(c byte) bool { return isAlnum(c) || c == '_' }, "github_pat_")
		}
		return fixed(s, i, 40, isAlnum, "ghp_", "gho_", "ghu_", "ghs_", "ghr_")
	case Slack:
		return slackAt(s, i)
	case AzureKey:
		// AccountKey=<88 characters of base64 for 64 bytes>, as in
		// Azure storage connection strings.
		j := i + len("accountkey=")
		if len(s) < j+88 || (len(s) > j+88 && isWord(s[j+88])) {
			return 0, false
		}
		b, err := base64.StdEncoding.DecodeString(s[j : j+88])
		return j + 88, err == nil && len(b) == 64
	case PrivateKey:
		return privateKeyAt(s, i)
	}
	return 0, false
}

// fixed matches one of the case-sensitive prefixes followed by characters
// of class up to n bytes in all, ending at a word boundary.
func fixed(s string, i, n int, class func(byte) bool, prefixes ...string) (int, bool) {
	if len(s) < i+n || (len(s) > i+n && (isWord(s[i+n]) || s[i+n] == '-')) {
		return 0, false
	}
	t := s[i : i+n]
	for _, p := range prefixes {
		if strings.HasPrefix(t, p) {
			for k := len(p); k < n; k++ {
				if !class(t[k]) {
					return 0, false
				}
			}
			return i + n, true
		}
	}
	return 0, false
}

// slackAt: xox?-<10..13 digits>-<segments>-<last of 24..64 alnum>, the
// shape of Slack bot, user and app tokens.
func slackAt(s string, i int) (int, bool) {
	if s[i:i+3] != "xox" {
		return 0, false
	}
	j := i + 5
	var segs []int // lengths
	digitsFirst := true
	n := 0
	for ; j < len(s) && len(segs) < 8; j++ {
		c := s[j]
		switch {
		case isAlnum(c):
			if len(segs) == 0 && !isDigit(c) {
				digitsFirst = false
			}
			n++
			continue
		case c == '-' && n > 0:
			segs = append(segs, n)
			n = 0
			continue
		}
		break
	}
	if n > 0 {
		segs = append(segs, n)
	}
	if len(segs) < 3 || !digitsFirst || segs[0] < 10 || segs[0] > 13 || segs[len(segs)-1] < 24 || segs[len(segs)-1] > 64 {
		return 0, false
	}
	if j < len(s) && (isWord(s[j]) || s[j] == '-') {
		return 0, false
	}
	return j, true
}

// privateKeyAt validates a PEM header naming a private key (RFC 7468 §10
// PRIVATE KEY and ENCRYPTED PRIVATE KEY, the traditional RSA/DSA/EC ones,
// OpenSSH's) or a PGP private key block, and spans it to its END line when
// that follows within 64 KiB, else to the end of the header.
func privateKeyAt(s string, i int) (int, bool) {
	rest := s[i:]
	if !strings.HasPrefix(rest, "-----BEGIN ") {
		return 0, false
	}
	line, _, closed := strings.Cut(rest[len("-----BEGIN "):], "-----")
	if !closed || len(line) > 40 {
		return 0, false
	}
	switch line {
	case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "DSA PRIVATE KEY", "EC PRIVATE KEY",
		"OPENSSH PRIVATE KEY", "PGP PRIVATE KEY BLOCK":
	default:
		return 0, false
	}
	end := i + len("-----BEGIN ") + len(line) + len("-----")
	footer := "-----END " + line + "-----"
	window := s[end:min(len(s), end+64<<10)]
	if k := strings.Index(window, footer); k >= 0 {
		return end + k + len(footer), true
	}
	return end, true
}

// numberRun validates the digits of a run (digits in groups separated by
// single spaces or hyphens, s[start:end]) as card numbers and SSNs. groups
// are the run's groups as [start, end) pairs. want says which detectors
// are active; found is called per match.
func numberRun(s string, groups [][2]int, card, ssn bool, found func(det string, start, end int)) {
	if ssn {
		// AAA-GG-SSSS with one separator used twice.
		for g := 0; g+2 < len(groups); g++ {
			a, b, c := groups[g], groups[g+1], groups[g+2]
			if a[1]-a[0] == 3 && b[1]-b[0] == 2 && c[1]-c[0] == 4 && s[a[1]] == s[b[1]] &&
				validSSN(s[a[0]:a[1]], s[b[0]:b[1]], s[c[0]:c[1]]) {
				found(SSN, a[0], c[1])
			}
		}
	}
	if !card {
		return
	}
	// Cards: one run of 13 to 19 digits, or consecutive groups as cards
	// are written (fours, the last one shorter; American Express and
	// Diners 4-6-5 and 4-6-4), starting at any group (a card written
	// beside another number).
	var digits [19]byte
	for g := 0; g < len(groups); g++ {
		best, n := -1, 0
		for h := g; h < len(groups) && h-g < 5; h++ {
			grp := s[groups[h][0]:groups[h][1]]
			if n+len(grp) > 19 {
				break
			}
			n += copy(digits[n:], grp)
			if n >= 13 && cardGrouping(s, groups[g:h+1]) && validCard(digits[:n]) {
				best = h // the longest valid reading wins
			}
		}
		if best >= 0 {
			found(Card, groups[g][0], groups[best][1])
			g = best
		}
	}
}

// cardGrouping reports whether groups are written as a card number is:
// one group, or fours with a shorter last one, or 4-6-5 / 4-6-4.
func cardGrouping(s string, groups [][2]int) bool {
	if len(groups) == 1 {
		return true
	}
	l := func(i int) int { return groups[i][1] - groups[i][0] }
	if len(groups) == 3 && l(0) == 4 && l(1) == 6 && (l(2) == 5 || l(2) == 4) {
		return true
	}
	for i := range len(groups) - 1 {
		if l(i) != 4 {
			return false
		}
	}
	return l(len(groups)-1) <= 4
}

// validCard: a known issuer prefix and length (ISO/IEC 7812 IINs of the
// major networks) and the Luhn check digit.
func validCard(d []byte) bool {
	n := len(d)
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p4 := p2*100 + int(d[2]-'0')*10 + int(d[3]-'0')
	p3 := p4 / 10
	ok := false
	switch {
	case d[0] == '4': // Visa (the 13-digit numbers are retired)
		ok = n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720: // Mastercard
		ok = n == 16
	case p2 == 34 || p2 == 37: // American Express
		ok = n == 15
	case p4 == 6011 || p2 == 65 || p3 >= 644 && p3 <= 649: // Discover
		ok = n >= 16
	case p4 >= 3528 && p4 <= 3589: // JCB
		ok = n >= 16
	case p2 == 36 || p2 == 38 || p2 == 39 || p3 >= 300 && p3 <= 305: // Diners Club
		ok = n >= 14
	case p2 == 62: // UnionPay
		ok = n >= 16
	case p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 || p4 == 6759 || p4 >= 6761 && p4 <= 6763: // Maestro
		ok = n >= 13
	}
	return ok && luhn(d)
}

// luhn reports whether the last digit of d is its Luhn check digit.
func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

// validSSN applies the Social Security Administration's rules: no area
// 000, 666 or 900-999, no group 00, no serial 0000, and not the two
// numbers published in advertising (078-05-1120, 219-09-9999).
func validSSN(area, group, serial string) bool {
	if area == "000" || area == "666" || area[0] == '9' || group == "00" || serial == "0000" {
		return false
	}
	n := area + group + serial
	return n != "078051120" && n != "219099999"
}

// ibanLengths are the IBAN lengths by country (ISO 13616 registry).
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
	"BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
	"ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
	"HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
	"LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
	"MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
	"RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
	"TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// ibanAt validates an IBAN starting at i (two capital letters, two check
// digits), written compact or in groups separated by single spaces; it
// returns the end of the match.
func ibanAt(s string, i int) (int, bool) {
	if i > 0 && isWord(s[i-1]) {
		return 0, false
	}
	want, ok := ibanLengths[s[i:i+2]]
	if !ok {
		return 0, false
	}
	var buf [34]byte
	n, j := 0, i
	for j < len(s) && n < want {
		c := s[j]
		switch {
		case isDigit(c) || c >= 'A' && c <= 'Z':
			buf[n] = c
			n++
			j++
		case c == ' ' && n > 0 && j+1 < len(s) && isAlnum(s[j+1]):
			j++
		default:
			return 0, false
		}
	}
	if n != want || (j < len(s) && isWord(s[j])) {
		return 0, false
	}
	return j, mod97(buf[:n]) == 1
}

// mod97 computes the ISO 7064 MOD 97-10 remainder of an IBAN: the first
// four characters moved to the end, letters as 10..35.
func mod97(iban []byte) int {
	r := 0
	add := func(c byte) {
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
			return
		}
		r = (r*100 + int(c-'A') + 10) % 97
	}
	for _, c := range iban[4:] {
		add(c)
	}
	for _, c := range iban[:4] {
		add(c)
	}
	return r
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isWord: letters, digits, '_' and every byte of a multi-byte character
// (a match must not start or end inside a word of any script).
func isWord(c byte) bool { return isAlnum(c) || c == '_' || c >= 0x80 }
