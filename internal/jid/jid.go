package jid

import (
	"errors"
	"net/netip"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"
)

// maxPart is the RFC 7622 §3.2–3.4 limit on each part, in bytes after
// enforcement.
const maxPart = 1023

// maxInput bounds the raw input before any PRECIS work is done, so a hostile
// peer cannot make us normalise megabytes. Three full parts and the two
// separators is the largest valid address; enforcement never legitimately
// needs more room than that on input.
const maxInput = 3*maxPart + 2

// ErrMalformed is matched (errors.Is) by every error Parse, New and
// WithResource return.
var ErrMalformed = errors.New("jid: malformed address")

// Error says which part of an address was rejected and why. It matches
// ErrMalformed and, when PRECIS or IDNA rejected the part, their error too.
type Error struct {
	Part   string // "address", "localpart", "domainpart" or "resourcepart"
	Reason string
	Err    error // underlying PRECIS/IDNA error, or nil
}

func (e *Error) Error() string {
	s := "jid: malformed " + e.Part + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap lets errors.Is find both ErrMalformed and the underlying error.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrMalformed}
	}
	return []error{ErrMalformed, e.Err}
}

// JID is a normalised XMPP address. The zero value is the empty address
// (IsZero). It is comparable: == is address equality.
//
// Only the normalised string is stored, with the end of the localpart and of
// the domainpart, so the parts, Bare and DomainJID are substrings and never
// allocate. The indices are a function of the string (the localpart cannot
// contain '@' and the domainpart neither '@' nor '/'), so == on the struct is
// == on the string.
type JID struct {
	s    string
	lend int32 // len(localpart); 0 when there is none
	dend int32 // index just past the domainpart
}

// Parse splits s by RFC 7622 §3.1 and normalises each part.
func Parse(s string) (JID, error) {
	if len(s) > maxInput {
		return JID{}, &Error{Part: "address", Reason: "too long"}
	}
	if s == "" {
		return JID{}, &Error{Part: "address", Reason: "empty"}
	}
	// §3.1: the first '/' starts the resourcepart (which may itself contain
	// '@' and '/'); in what precedes it, the first '@' ends the localpart.
	rest, resource, hasRes := strings.Cut(s, "/")
	if hasRes && resource == "" {
		return JID{}, &Error{Part: "resourcepart", Reason: "empty after '/'"}
	}
	local, domain, hasLocal := strings.Cut(rest, "@")
	if !hasLocal {
		local, domain = "", rest
	} else if local == "" {
		return JID{}, &Error{Part: "localpart", Reason: "empty before '@'"}
	}
	return build(s, local, domain, resource, hasLocal, hasRes)
}

// New builds an address from separate parts. An empty local or resource
// means the address has none; the domain is required.
func New(local, domain, resource string) (JID, error) {
	return build("", local, domain, resource, local != "", resource != "")
}

// MustParse is Parse for constants and tests: it panics on error.
func MustParse(s string) JID {
	j, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return j
}

// build normalises the parts and assembles the JID. When orig is the raw
// address and no part changed, orig itself is kept: that is the
// zero-allocation path for addresses that are already normalised.
func build(orig, local, domain, resource string, hasLocal, hasRes bool) (JID, error) {
	var err error
	nl, nd, nr := local, domain, resource
	if hasLocal {
		if nl, err = Localpart(local); err != nil {
			return JID{}, err
		}
	}
	if nd, err = Domainpart(domain); err != nil {
		return JID{}, err
	}
	if hasRes {
		if nr, err = Resourcepart(resource); err != nil {
			return JID{}, err
		}
	}
	j := JID{}
	if hasLocal {
		j.lend = int32(len(nl))
		j.dend = int32(len(nl) + 1 + len(nd))
	} else {
		j.dend = int32(len(nd))
	}
	if orig != "" && nl == local && nd == domain && nr == resource {
		j.s = orig
		return j, nil
	}
	var b strings.Builder
	b.Grow(len(nl) + len(nd) + len(nr) + 2)
	if hasLocal {
		b.WriteString(nl)
		b.WriteByte('@')
	}
	b.WriteString(nd)
	if hasRes {
		b.WriteByte('/')
		b.WriteString(nr)
	}
	j.s = b.String()
	return j, nil
}

// Local returns the localpart, or "" if there is none.
func (j JID) Local() string { return j.s[:j.lend] }

// Domain returns the domainpart.
func (j JID) Domain() string {
	if j.lend == 0 {
		return j.s[:j.dend]
	}
	return j.s[j.lend+1 : j.dend]
}

// Resource returns the resourcepart, or "" if there is none.
func (j JID) Resource() string {
	if int(j.dend) >= len(j.s) {
		return ""
	}
	return j.s[j.dend+1:]
}

// Bare returns the address without its resourcepart.
func (j JID) Bare() JID { return JID{s: j.s[:j.dend], lend: j.lend, dend: j.dend} }

// DomainJID returns the address of the domain alone.
func (j JID) DomainJID() JID {
	d := j.Domain()
	return JID{s: d, dend: int32(len(d))}
}

// WithResource returns the bare address with resource r (normalised). An
// empty r yields the bare address, which is what resource binding and
// presence routing want when they drop a resource.
func (j JID) WithResource(r string) (JID, error) {
	if r == "" {
		return j.Bare(), nil
	}
	if j.IsZero() {
		return JID{}, &Error{Part: "domainpart", Reason: "empty"}
	}
	nr, err := Resourcepart(r)
	if err != nil {
		return JID{}, err
	}
	b := j.s[:j.dend]
	return JID{s: b + "/" + nr, lend: j.lend, dend: j.dend}, nil
}

// String returns the normalised address; it does not allocate.
func (j JID) String() string { return j.s }

// IsZero reports whether j is the zero (empty) address.
func (j JID) IsZero() bool { return j.s == "" }

// IsBare reports whether j has no resourcepart.
func (j JID) IsBare() bool { return !j.IsZero() && int(j.dend) == len(j.s) }

// IsDomain reports whether j has neither localpart nor resourcepart.
func (j JID) IsDomain() bool { return j.IsBare() && j.lend == 0 }

// Equal reports whether j and o are the same address (same as ==).
func (j JID) Equal(o JID) bool { return j == o }

// MarshalText implements encoding.TextMarshaler.
func (j JID) MarshalText() ([]byte, error) { return []byte(j.s), nil }

// UnmarshalText implements encoding.TextUnmarshaler; empty text yields the
// zero JID so optional fields round-trip.
func (j *JID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*j = JID{}
		return nil
	}
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*j = p
	return nil
}

// Localpart enforces RFC 7622 §3.3 on a localpart and returns its
// normalised form. It is exported for SASL, where the authentication
// identity is a bare localpart.
func Localpart(s string) (string, error) {
	if !asciiLocalClean(s) {
		if !utf8.ValidString(s) {
			return "", &Error{Part: "localpart", Reason: "invalid UTF-8"}
		}
		n, err := precis.UsernameCaseMapped.String(s)
		if err != nil {
			return "", &Error{Part: "localpart", Reason: "PRECIS UsernameCaseMapped", Err: err}
		}
		s = n
	}
	if len(s) == 0 || len(s) > maxPart {
		return "", &Error{Part: "localpart", Reason: "length not in 1..1023 bytes"}
	}
	// §3.3.1: these are allowed by the IdentifierClass but not in a JID.
	if i := strings.IndexAny(s, "\"&'/:<>@"); i >= 0 {
		return "", &Error{Part: "localpart", Reason: "contains " + string(s[i])}
	}
	return s, nil
}

// asciiLocalClean reports whether UsernameCaseMapped would leave s as it is
// without asking PRECIS: printable ASCII (IdentifierClass), no upper case.
// Forbidden characters are checked by the caller on both paths.
func asciiLocalClean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// Resourcepart enforces RFC 7622 §3.4 (PRECIS OpaqueString).
func Resourcepart(s string) (string, error) {
	if !asciiResourceClean(s) {
		// OpaqueString would silently turn invalid bytes into U+FFFD.
		if !utf8.ValidString(s) {
			return "", &Error{Part: "resourcepart", Reason: "invalid UTF-8"}
		}
		n, err := precis.OpaqueString.String(s)
		if err != nil {
			return "", &Error{Part: "resourcepart", Reason: "PRECIS OpaqueString", Err: err}
		}
		s = n
	}
	if len(s) == 0 || len(s) > maxPart {
		return "", &Error{Part: "resourcepart", Reason: "length not in 1..1023 bytes"}
	}
	return s, nil
}

// asciiResourceClean: OpaqueString leaves printable ASCII and the ASCII
// space untouched (FreeformClass, no case mapping, NFC is a no-op).
func asciiResourceClean(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// Domainpart enforces RFC 7622 §3.2: IP literals, or a domain name in
// IDNA2008 U-label form (mapped with the UTS #46 lookup rules), with one
// trailing dot removed.
func Domainpart(s string) (string, error) {
	if strings.HasPrefix(s, "[") {
		return ipv6Literal(s)
	}
	// §3.2: a final label separator is stripped before any use; only one.
	if t := strings.TrimSuffix(s, "."); asciiDomainClean(t) {
		s = t
	} else {
		if !utf8.ValidString(s) {
			return "", &Error{Part: "domainpart", Reason: "invalid UTF-8"}
		}
		n, err := idna.Lookup.ToUnicode(s)
		if err != nil {
			return "", &Error{Part: "domainpart", Reason: "IDNA2008", Err: err}
		}
		// Stripped after mapping, because the lookup mapping is what turns
		// U+3002 and the other full stops into '.'.
		n = strings.TrimSuffix(n, ".")
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".") || strings.Contains(n, "..") {
			return "", &Error{Part: "domainpart", Reason: "empty label"}
		}
		// STD3 rules already exclude these; the JID layout depends on it,
		// so it is not left to a table in another module.
		if strings.ContainsAny(n, "@/") {
			return "", &Error{Part: "domainpart", Reason: "contains '@' or '/'"}
		}
		s = n
	}
	if len(s) == 0 || len(s) > maxPart {
		return "", &Error{Part: "domainpart", Reason: "length not in 1..1023 bytes"}
	}
	return s, nil
}

// asciiDomainClean reports whether s is lower-case LDH labels that IDNA
// lookup would return unchanged: no empty label, no leading or trailing
// hyphen, and no "--" in positions 3–4 (which also sends every "xn--" label
// to the full IDNA path to be decoded and validated).
func asciiDomainClean(s string) bool {
	if s == "" {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			l := s[start:i]
			if l == "" || l[0] == '-' || l[len(l)-1] == '-' ||
				(len(l) >= 4 && l[2] == '-' && l[3] == '-') {
				return false
			}
			start = i + 1
			continue
		}
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ipv6Literal accepts "[addr]" (RFC 7622 §3.2, IP-literal of RFC 3986
// without IPvFuture) and returns it in the canonical RFC 5952 form, so that
// two spellings of one address compare equal.
func ipv6Literal(s string) (string, error) {
	if !strings.HasSuffix(s, "]") {
		return "", &Error{Part: "domainpart", Reason: "unterminated IP literal"}
	}
	a, err := netip.ParseAddr(s[1 : len(s)-1])
	if err != nil || !a.Is6() || a.Zone() != "" {
		return "", &Error{Part: "domainpart", Reason: "invalid IPv6 literal", Err: err}
	}
	var buf [64]byte
	c := a.AppendTo(buf[:0])
	if string(c) == s[1:len(s)-1] {
		return s, nil // already canonical: keep the caller's string
	}
	return "[" + string(c) + "]", nil
}
