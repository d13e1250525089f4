package audit

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Formats of a forwarded record.
const (
	FormatJSON = "json"
	FormatCEF  = "cef"
)

// formatJSON is r as one line of JSON (without the newline), every
// non-ASCII character escaped, so that the line is plain ASCII whatever
// the fields hold.
func formatJSON(r Record) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic("audit: " + err.Error()) // strings and ints always encode
	}
	return asciiJSON(b)
}

func asciiJSON(b []byte) []byte {
	i := bytes.IndexFunc(b, func(r rune) bool { return r >= utf8.RuneSelf })
	if i < 0 {
		return b
	}
	out := append([]byte(nil), b[:i]...)
	for _, r := range string(b[i:]) {
		switch {
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		case r > 0xFFFF:
			r1, r2 := utf16Pair(r)
			out = appendU(appendU(out, r1), r2)
		default:
			out = appendU(out, r)
		}
	}
	return out
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xD800 + (r>>10)&0x3FF, 0xDC00 + r&0x3FF
}

func appendU(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
}

// Names shown in CEF's Name field.
var actionNames = map[string]string{
	ActionLogin: "Login", ActionLoginFailed: "Login failed", ActionAccountCreated: "Account created",
	ActionAccountDisabled: "Account disabled", ActionAccountEnabled: "Account enabled",
	ActionAccountDeleted: "Account deleted", ActionPasswordChanged: "Password changed",
	ActionTokenCreated: "API token created", ActionTokenRevoked: "API token revoked",
	ActionRoleChanged: "Role changed", ActionAPICall: "Admin API call",
	ActionSessionEndedByAdmin: "Session ended by an admin", ActionRoomDestroyed: "Room destroyed",
	ActionConfigReloaded: "Configuration reloaded", ActionAbuseReport: "Abuse report",
	ActionHold: "Legal hold", ActionExport: "Archive export", ActionPolicy: "Policy decision",
	ActionFederationLink: "Federation link", ActionFederationRefused: "Federation refused",
	ActionRetention: "Retention run", ActionDeviceRevoked: "Device revoked",
}

// cefSeverity is CEF's 0-10 severity: failures and refusals matter more.
func cefSeverity(r Record) int {
	switch r.Outcome {
	case OutcomeFailure, OutcomeDenied:
		return 7
	}
	return 3
}

// formatCEF is r in ArcSight's Common Event Format (CEF:0). Header fields
// escape '\' and '|', extension values '\', '=' and line breaks (as \n and
// \r), as the CEF specification requires.
func formatCEF(r Record, version string) []byte {
	name := actionNames[r.Action]
	if name == "" {
		name = r.Action
	}
	var b strings.Builder
	b.WriteString("CEF:0|parley|parley|")
	for _, h := range []string{version, r.Action, name, strconv.Itoa(cefSeverity(r))} {
		b.WriteString(cefHeader(h))
		b.WriteByte('|')
	}
	ext := [][2]string{
		{"rt", strconv.FormatInt(r.Time.UnixMilli(), 10)},
		{"externalId", strconv.FormatInt(r.Seq, 10)},
		{"suser", r.Actor},
		{"duser", r.Target},
		{"outcome", r.Outcome},
	}
	if a, err := netip.ParseAddr(r.IP); err == nil {
		if a.Unmap().Is4() {
			ext = append(ext, [2]string{"src", a.Unmap().String()})
		} else {
			ext = append(ext, [2]string{"c6a2", a.String()}, [2]string{"c6a2Label", "Source IPv6 Address"})
		}
	}
	if r.RequestID != "" {
		ext = append(ext, [2]string{"cs1", r.RequestID}, [2]string{"cs1Label", "requestId"})
	}
	ext = append(ext, [2]string{"cs2", hexString(r.Hash)}, [2]string{"cs2Label", "hash"})
	if len(r.Details) > 0 {
		d, _ := json.Marshal(r.Details)
		ext = append(ext, [2]string{"msg", string(d)})
	}
	sep := ""
	for _, kv := range ext {
		if kv[1] == "" {
			continue
		}
		b.WriteString(sep)
		b.WriteString(kv[0])
		b.WriteByte('=')
		b.WriteString(cefValue(kv[1]))
		sep = " "
	}
	return []byte(b.String())
}

var (
	cefHeaderEscaper = strings.NewReplacer(`\`, `\\`, `|`, `\|`, "\r\n", " ", "\n", " ", "\r", " ")
	cefValueEscaper  = strings.NewReplacer(`\`, `\\`, `=`, `\=`, "\n", `\n`, "\r", `\r`)
)

// cefHeader escapes a CEF header field; the header has no line breaks at
// all, so they become spaces.
func cefHeader(s string) string { return cefHeaderEscaper.Replace(s) }

// cefValue escapes a CEF extension value.
func cefValue(s string) string { return cefValueEscaper.Replace(s) }

func hexString(b []byte) string {
	const hex = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = hex[c>>4], hex[c&0xF]
	}
	return string(out)
}

// syslogHeader fields of RFC 5424 §6.2.
type syslogHeader struct {
	facility int
	hostname string
	appName  string
	procID   string
}

// Severities of RFC 5424 §6.2.1 used here.
const (
	sevWarning = 4
	sevNotice  = 5
)

// formatSyslog is r as an RFC 5424 message: header, one SD-ELEMENT with
// the record's seq and outcome (RFC 5424 §6.3; the SD-ID carries
// 32473, the private enterprise number RFC 5612 reserves for
// documentation, until parley has its own) and msg as MSG. A MSG with
// bytes beyond ASCII starts with a BOM (RFC 5424 §6.4).
func formatSyslog(h syslogHeader, r Record, msg []byte) []byte {
	sev := sevNotice
	if r.Outcome == OutcomeFailure || r.Outcome == OutcomeDenied {
		sev = sevWarning
	}
	var b bytes.Buffer
	b.WriteByte('<')
	b.WriteString(strconv.Itoa(h.facility*8 + sev))
	b.WriteString(">1 ")
	b.WriteString(r.Time.UTC().Format("2006-01-02T15:04:05.000000Z07:00")) // TIME-SECFRAC: at most 6 digits
	b.WriteByte(' ')
	for _, f := range []struct {
		s   string
		max int
	}{{h.hostname, 255}, {h.appName, 48}, {h.procID, 128}, {r.Action, 32}} {
		b.WriteString(printASCII(f.s, f.max))
		b.WriteByte(' ')
	}
	b.WriteString(`[parley@32473 seq="`)
	b.WriteString(strconv.FormatInt(r.Seq, 10))
	b.WriteString(`" outcome="`)
	b.WriteString(sdValue(r.Outcome))
	b.WriteString(`"] `)
	if bytes.IndexFunc(msg, func(c rune) bool { return c >= utf8.RuneSelf }) >= 0 {
		b.WriteString("\uFEFF")
	}
	b.Write(msg)
	return b.Bytes()
}

// printASCII is s as an RFC 5424 header field: PRINTUSASCII (33-126) up
// to max characters, "-" (NILVALUE) if nothing is left.
func printASCII(s string, max int) string {
	out := make([]byte, 0, min(len(s), max))
	for i := 0; i < len(s) && len(out) < max; i++ {
		if c := s[i]; c >= 33 && c <= 126 {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return string(out)
}

var sdEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, `]`, `\]`)

// sdValue escapes a PARAM-VALUE (RFC 5424 §6.3.3).
func sdValue(s string) string { return sdEscaper.Replace(s) }

// frame prefixes msg with its length in octets and a space: octet
// counting, RFC 6587 §3.4.1 (and RFC 5425 §4.3 for TLS).
func frame(msg []byte) []byte {
	return append(append(strconv.AppendInt(nil, int64(len(msg)), 10), ' '), msg...)
}
