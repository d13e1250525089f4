package proxy65

import (
	"errors"
	"strings"
)

// The RFC 1928 values XEP-0065 uses.
const (
	socksVersion = 5
	methodNoAuth = 0x00 // RFC 1928 §3: NO AUTHENTICATION REQUIRED
	methodNone   = 0xff // NO ACCEPTABLE METHODS
	cmdConnect   = 0x01
	atypDomain   = 0x03

	// Replies (RFC 1928 §6).
	repSucceeded       = 0x00
	repGeneralFailure  = 0x01
	repNotAllowed      = 0x02 // connection not allowed by ruleset
	repCmdNotSupported = 0x07
	repAtypUnsupported = 0x08
)

// hashLen is the length of DST.ADDR: a SHA-1 in hex (XEP-0065 §6.3.2).
const hashLen = 40

// Sizes of the longest greeting (VER NMETHODS, 255 methods) and request
// (VER CMD RSV ATYP LEN, 255 address bytes, PORT).
const (
	maxGreeting = 2 + 255
	maxRequest  = 5 + 255 + 2
)

// errShort: the bytes so far are a valid prefix; read more.
var errShort = errors.New("proxy65: incomplete SOCKS5 message")

// socksError is a SOCKS5 request the proxy refuses, with the reply code
// to send (none when the bytes are not SOCKS5 at all).
type socksError struct {
	rep   byte
	reply bool // send a reply with rep before closing
	msg   string
}

func (e *socksError) Error() string { return "proxy65: " + e.msg }

// parseGreeting reads a method selection message (RFC 1928 §3) and says
// how many bytes it took and whether "no authentication", the only
// method XEP-0065 needs, is offered.
func parseGreeting(b []byte) (n int, noAuth bool, err error) {
	if len(b) < 2 {
		return 0, false, errShort
	}
	if b[0] != socksVersion {
		return 0, false, &socksError{msg: "not SOCKS5"}
	}
	n = 2 + int(b[1])
	if b[1] == 0 {
		return 0, false, &socksError{msg: "no methods offered"}
	}
	if len(b) < n {
		return 0, false, errShort
	}
	for _, m := range b[2:n] {
		if m == methodNoAuth {
			noAuth = true
		}
	}
	return n, noAuth, nil
}

// request is a CONNECT request as XEP-0065 uses it.
type request struct {
	addr string // the stream's hash, lower-case hex
	port uint16 // echoed in the reply (XEP-0065 §6.3.2 asks for 0)
}

// parseRequest reads a SOCKS5 request (RFC 1928 §4) and says how many
// bytes it took. Only CONNECT to a DOMAINNAME of 40 hex digits is
// accepted (XEP-0065 §6.3.2); anything else is a *socksError with the
// reply code to send.
func parseRequest(b []byte) (n int, req request, err error) {
	if len(b) < 5 {
		if len(b) > 0 && b[0] != socksVersion {
			return 0, req, &socksError{msg: "not SOCKS5"}
		}
		return 0, req, errShort
	}
	switch {
	case b[0] != socksVersion:
		return 0, req, &socksError{msg: "not SOCKS5"}
	case b[1] != cmdConnect:
		return 0, req, &socksError{rep: repCmdNotSupported, reply: true, msg: "only CONNECT is supported"}
	case b[3] != atypDomain:
		return 0, req, &socksError{rep: repAtypUnsupported, reply: true, msg: "only DOMAINNAME addresses are supported"}
	}
	n = 5 + int(b[4]) + 2
	if len(b) < n {
		return 0, req, errShort
	}
	addr := string(b[5 : 5+int(b[4])])
	if len(addr) != hashLen || !isHex(addr) {
		return 0, req, &socksError{rep: repNotAllowed, reply: true, msg: "the address is not a SHA-1 in hex"}
	}
	req.addr = strings.ToLower(addr)
	req.port = uint16(b[n-2])<<8 | uint16(b[n-1])
	return n, req, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// appendRequest encodes a CONNECT request to a DOMAINNAME (tests, and the
// reply, whose layout is the same with REP in place of CMD).
func appendRequest(dst []byte, cmd byte, addr string, port uint16) []byte {
	dst = append(dst, socksVersion, cmd, 0, atypDomain, byte(len(addr)))
	dst = append(dst, addr...)
	return append(dst, byte(port>>8), byte(port))
}

// appendReply encodes a reply that echoes the request's address and port
// as BND.ADDR and BND.PORT (XEP-0065 §6.3.2).
func appendReply(dst []byte, rep byte, req request) []byte {
	return appendRequest(dst, rep, req.addr, req.port)
}

// appendFailure encodes a refusal of a request the proxy could not read
// whole: BND.ADDR 0.0.0.0, BND.PORT 0.
func appendFailure(dst []byte, rep byte) []byte {
	return append(dst, socksVersion, rep, 0, 0x01, 0, 0, 0, 0, 0, 0)
}
