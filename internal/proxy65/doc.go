// Package proxy65 is a SOCKS5 Bytestreams proxy (XEP-0065) at
// proxy.<domain>: two clients that cannot reach each other (both behind
// NAT, say) each open a TCP connection to the proxy, and the proxy relays
// the bytes between them once the initiator asks it to. Jingle file
// transfer (XEP-0234 over XEP-0260) and the older SI file transfer use it.
//
// The XMPP side (proxy65.go): the service answers disco#info with the
// identity proxy/bytestreams (XEP-0065 §4), tells local users its network
// address (§4: a <streamhost/> with the configured public host and
// port), and activates a stream on the initiator's request (§6.3.5):
// SHA-1(SID + initiator full JID + target full JID) names the stream, so
// only the initiator, whose JID the router stamped on the request, can
// name the one it opened.
//
// The SOCKS5 side (socks5.go, relay.go): the subset of RFC 1928 that
// XEP-0065 §6.3.2 uses (XEP-0065 1.8): the "no authentication" method, CONNECT with a
// DOMAINNAME address holding that hash (40 hex digits) and port 0. The
// first connection with a hash waits for a second; a third is refused
// (no multicast, §10.1). Bytes sent before the activation are read and
// dropped (§10.1: ignored), which also tells the proxy when a waiting
// client leaves.
//
// Limits (docs/SECURITY.md): connections in total and per address,
// streams one user may have active at once, bytes per second per stream
// and direction (a token bucket), and how long a connection may wait to
// be paired and activated. Every connection has one goroutine, owned by the Module;
// Close ends them all and waits for them.
package proxy65
