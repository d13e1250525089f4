package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// The PROXY protocol (HAProxy, "The PROXY protocol", versions 1 and 2)
// puts the client's address in front of the stream a proxy opens to us.

// Signatures of the two versions (spec §2.1 and §2.2).
var (
	proxyV1Sig = []byte("PROXY ")
	proxyV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")
)

const (
	// proxyV1Max is the longest version 1 line, CRLF included (§2.1:
	// 107 bytes).
	proxyV1Max = 107
	// proxyV2MaxBody bounds what follows the 16-byte version 2 header
	// (addresses and TLVs). The format allows 65535; HAProxy's TLVs (ALPN,
	// authority, TLS details, unique id) fit in far less.
	proxyV2MaxBody = 2048
	// ProxyHeaderMax is the most a header may take.
	ProxyHeaderMax = 16 + proxyV2MaxBody
)

var (
	// ErrNotProxy means the bytes do not start a PROXY header.
	ErrNotProxy = errors.New("transport: not a PROXY protocol header")
	// ErrProxyHeader is a malformed or unsupported PROXY header.
	ErrProxyHeader = errors.New("transport: bad PROXY protocol header")
	// errProxyShort means the header is not complete yet.
	errProxyShort = errors.New("transport: PROXY header incomplete")
)

// ParseProxyHeader parses a PROXY protocol header (version 1 or 2) at the
// start of b. It returns the client's address, or the zero AddrPort when
// the header says to keep the connection's own (version 1 UNKNOWN,
// version 2 LOCAL or an address family other than TCP over IPv4/IPv6),
// and the header's length. It returns ErrNotProxy when b does not begin
// with a signature, errProxyShort when b ends inside a header, and an error
// wrapping ErrProxyHeader for anything malformed.
func ParseProxyHeader(b []byte) (src netip.AddrPort, n int, err error) {
	switch {
	case hasPrefixOrShort(b, proxyV1Sig):
		return parseProxyV1(b)
	case hasPrefixOrShort(b, proxyV2Sig):
		return parseProxyV2(b)
	}
	return netip.AddrPort{}, 0, ErrNotProxy
}

// hasPrefixOrShort reports whether b starts with sig, or with part of it
// if b is shorter.
func hasPrefixOrShort(b, sig []byte) bool {
	k := min(len(b), len(sig))
	return k > 0 && bytes.Equal(b[:k], sig[:k])
}

func bad(msg string) error { return errors.Join(ErrProxyHeader, errors.New(msg)) }

// parseProxyV1: "PROXY TCP4 <src> <dst> <srcport> <dstport>\r\n" or
// "PROXY UNKNOWN[ anything]\r\n".
func parseProxyV1(b []byte) (netip.AddrPort, int, error) {
	end := bytes.Index(b[:min(len(b), proxyV1Max)], []byte("\r\n"))
	if end < 0 {
		if len(b) >= proxyV1Max {
			return netip.AddrPort{}, 0, bad("v1 line longer than 107 bytes")
		}
		return netip.AddrPort{}, 0, errProxyShort
	}
	n := end + 2
	f := strings.Split(string(b[len(proxyV1Sig):end]), " ")
	if f[0] == "UNKNOWN" {
		return netip.AddrPort{}, n, nil
	}
	if len(f) != 5 || (f[0] != "TCP4" && f[0] != "TCP6") {
		return netip.AddrPort{}, 0, bad("v1 wants TCP4|TCP6 src dst srcport dstport")
	}
	src, err1 := netip.ParseAddr(f[1])
	dst, err2 := netip.ParseAddr(f[2])
	sport, err3 := parsePort(f[3])
	_, err4 := parsePort(f[4])
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return netip.AddrPort{}, 0, bad("v1 address or port: " + err.Error())
	}
	if want4 := f[0] == "TCP4"; src.Is4() != want4 || dst.Is4() != want4 || src.Zone() != "" {
		return netip.AddrPort{}, 0, bad("v1 address of the wrong family")
	}
	return netip.AddrPortFrom(src, sport), n, nil
}

// parsePort accepts 0-65535 in decimal without sign or leading zeros.
func parsePort(s string) (uint16, error) {
	v, err := strconv.ParseUint(s, 10, 16)
	if err != nil || s != strconv.FormatUint(v, 10) {
		return 0, errors.New("bad port " + strconv.Quote(s))
	}
	return uint16(v), nil
}

// parseProxyV2: the binary header of §2.2.
func parseProxyV2(b []byte) (netip.AddrPort, int, error) {
	if len(b) < 16 {
		return netip.AddrPort{}, 0, errProxyShort
	}
	verCmd, fam := b[12], b[13]
	size := int(binary.BigEndian.Uint16(b[14:16]))
	if verCmd>>4 != 2 {
		return netip.AddrPort{}, 0, bad("v2 version is not 2")
	}
	if size > proxyV2MaxBody {
		return netip.AddrPort{}, 0, bad("v2 header longer than " + strconv.Itoa(proxyV2MaxBody) + " bytes")
	}
	n := 16 + size
	if len(b) < n {
		return netip.AddrPort{}, 0, errProxyShort
	}
	body := b[16:n]
	switch verCmd & 0xF {
	case 0: // LOCAL: the proxy's own connection (health checks)
		return netip.AddrPort{}, n, nil
	case 1: // PROXY
	default:
		return netip.AddrPort{}, 0, bad("v2 command is neither LOCAL nor PROXY")
	}
	if fam&0xF != 1 { // not STREAM: UNSPEC, DGRAM
		return netip.AddrPort{}, n, nil
	}
	switch fam >> 4 {
	case 1: // AF_INET: src, dst (4 bytes each), src port, dst port
		if len(body) < 12 {
			return netip.AddrPort{}, 0, bad("v2 IPv4 addresses truncated")
		}
		src := netip.AddrFrom4([4]byte(body[0:4]))
		return netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[8:10])), n, nil
	case 2: // AF_INET6
		if len(body) < 36 {
			return netip.AddrPort{}, 0, bad("v2 IPv6 addresses truncated")
		}
		src := netip.AddrFrom16([16]byte(body[0:16])).Unmap()
		return netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[32:34])), n, nil
	}
	// AF_UNSPEC or AF_UNIX: no client IP to give.
	return netip.AddrPort{}, n, nil
}
