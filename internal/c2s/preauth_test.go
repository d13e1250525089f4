package c2s_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const streamHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"

// TestPreAuthElementLimitTCP (issue 10 item 7): before authentication an
// element larger than a few KiB ends the stream with policy-violation, so
// an unauthenticated connection cannot hold the full stanza limit.
func TestPreAuthElementLimitTCP(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	conn, err := net.Dial("tcp", srv.C2S())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	r := xmlstream.NewReader(conn, xmlstream.Limits{})
	conn.Write([]byte(streamHeader))
	// 16 KiB of SASL payload: far more than any negotiation needs.
	go conn.Write([]byte("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + strings.Repeat("A", 16<<10) + "</auth>"))
	for {
		tok, err := r.Next()
		if err != nil {
			t.Fatalf("no stream error: %v", err)
		}
		if tok.Kind == xmlstream.StreamElement && xmpptest.IsStreamError(tok.El) {
			if c := xmpptest.StreamErrorCondition(tok.El); c != "policy-violation" {
				t.Fatalf("stream error %s, want policy-violation", tok.El)
			}
			return
		}
		if tok.Kind == xmlstream.StreamElement && tok.El.Name != "features" {
			t.Fatalf("answered %s instead of refusing the element", tok.El)
		}
	}
}

// wsUpgrade opens a WebSocket connection to the server by hand and returns
// it after the 101 answer.
func wsUpgrade(t *testing.T, srv *testserver.Server) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.HTTP())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(wait))
	conn.Write([]byte("GET /xmpp-websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n"))
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", err, res)
	}
	return conn, br
}

// frameHeader is a masked client frame header (RFC 6455 §5.2) declaring n
// payload bytes.
func frameHeader(opcode byte, n uint64) []byte {
	h := []byte{0x80 | opcode}
	switch {
	case n < 126:
		h = append(h, 0x80|byte(n))
	case n < 1<<16:
		h = append(h, 0x80|126)
		h = binary.BigEndian.AppendUint16(h, uint16(n))
	default:
		h = append(h, 0x80|127)
		h = binary.BigEndian.AppendUint64(h, n)
	}
	return append(h, 0, 0, 0, 0) // a zero mask leaves the payload as it is
}

// refusedSoon reads the server's frames until its close frame (RFC 6455
// §5.5.1) or the end of the connection; the deadline set by wsUpgrade
// (far below the one-minute authentication timeout) fails the test if
// neither comes. A stream error sent before must be policy-violation.
func refusedSoon(t *testing.T, br *bufio.Reader) {
	t.Helper()
	for {
		var h [2]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the server neither refused nor closed")
			}
			return // closed
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var l [2]byte
			io.ReadFull(br, l[:])
			n = uint64(binary.BigEndian.Uint16(l[:]))
		case 127:
			var l [8]byte
			io.ReadFull(br, l[:])
			n = binary.BigEndian.Uint64(l[:])
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			t.Fatalf("reading a frame: %v", err)
		}
		switch op := h[0] & 0x0f; {
		case op == 8:
			return
		case op == 1 && strings.Contains(string(payload), "stream:error"):
			if !strings.Contains(string(payload), "policy-violation") {
				t.Fatalf("stream error %s, want policy-violation", payload)
			}
		}
	}
}

// TestWebSocketAbsurdFrame (issue 10 item 7): a frame that declares an
// absurd length is refused at once, without waiting for its payload (or
// for the authentication timeout).
func TestWebSocketAbsurdFrame(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	conn, br := wsUpgrade(t, srv)
	conn.Write(frameHeader(1, 1<<40))
	conn.Write([]byte("<open")) // a trickle of the promised terabyte
	refusedSoon(t, br)
}

// TestWebSocketPreAuthFrameLimit: before authentication a WebSocket
// message larger than a few KiB is refused as soon as its frame header
// says so.
func TestWebSocketPreAuthFrameLimit(t *testing.T) {
	srv := testserver.Quiet(t, nil)
	conn, br := wsUpgrade(t, srv)
	conn.Write(frameHeader(1, 64<<10)) // 64 KiB announced, nothing sent
	refusedSoon(t, br)
}
