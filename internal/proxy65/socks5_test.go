package proxy65

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
)

const testHash = "0123456789abcdef0123456789abcdef01234567"

func TestParseGreeting(t *testing.T) {
	tests := []struct {
		in     []byte
		n      int
		noAuth bool
		err    string // "short", "refused", or "" for none
	}{
		0: {in: []byte{5, 1, 0}, n: 3, noAuth: true},
		1: {in: []byte{5, 2, 2, 0}, n: 4, noAuth: true},
		// Only username/password offered: no method in common.
		2: {in: []byte{5, 1, 2}, n: 3},
		3: {in: []byte{5}, err: "short"},
		4: {in: []byte{5, 3, 0}, err: "short"},
		5: {in: []byte{4, 1, 0}, err: "refused"}, // SOCKS4
		6: {in: []byte{5, 0}, err: "refused"},
		// What follows the greeting (a pipelined request) is not taken.
		7: {in: []byte{5, 1, 0, 5, 1}, n: 3, noAuth: true},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			n, noAuth, err := parseGreeting(tc.in)
			if got := errKind(err); got != tc.err {
				t.Fatalf("err = %v, want %s", err, tc.err)
			}
			if err == nil && (n != tc.n || noAuth != tc.noAuth) {
				t.Fatalf("= %d, %v; want %d, %v", n, noAuth, tc.n, tc.noAuth)
			}
		})
	}
}

func errKind(err error) string {
	var se *socksError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, errShort):
		return "short"
	case errors.As(err, &se):
		return "refused"
	}
	return "other"
}

func TestParseRequest(t *testing.T) {
	good := appendRequest(nil, cmdConnect, testHash, 0)
	tests := []struct {
		in   []byte
		n    int
		addr string
		port uint16
		err  string
		rep  byte // the reply code of a refusal that is answered
	}{
		0: {in: good, n: len(good), addr: testHash},
		// Upper-case hex is the same hash; a port other than 0 is echoed.
		1:  {in: appendRequest(nil, cmdConnect, strings.ToUpper(testHash), 7777), n: 47, addr: testHash, port: 7777},
		2:  {in: good[:10], err: "short"},
		3:  {in: good[:len(good)-1], err: "short"},
		4:  {in: appendRequest(nil, 0x02, testHash, 0), err: "refused", rep: repCmdNotSupported},  // BIND
		5:  {in: appendRequest(nil, 0x03, testHash, 0), err: "refused", rep: repCmdNotSupported},  // UDP ASSOCIATE
		6:  {in: []byte{5, 1, 0, 1, 127, 0, 0, 1, 0, 0}, err: "refused", rep: repAtypUnsupported}, // IPv4
		7:  {in: appendRequest(nil, cmdConnect, "example.com", 80), err: "refused", rep: repNotAllowed},
		8:  {in: appendRequest(nil, cmdConnect, strings.Repeat("g", 40), 0), err: "refused", rep: repNotAllowed},
		9:  {in: appendRequest(nil, cmdConnect, "", 0), err: "refused", rep: repNotAllowed},
		10: {in: append([]byte{4}, good[1:]...), err: "refused"},
		11: {in: []byte{4, 1}, err: "refused"},
		// Bytes after the request (data sent before activation) stay.
		12: {in: append(append([]byte(nil), good...), "early"...), n: len(good), addr: testHash},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			n, req, err := parseRequest(tc.in)
			if got := errKind(err); got != tc.err {
				t.Fatalf("err = %v, want %s", err, tc.err)
			}
			var se *socksError
			if errors.As(err, &se) && se.reply && se.rep != tc.rep {
				t.Fatalf("reply code %#x, want %#x", se.rep, tc.rep)
			}
			if err == nil && (n != tc.n || req.addr != tc.addr || req.port != tc.port) {
				t.Fatalf("= %d, %+v; want %d, %s, %d", n, req, tc.n, tc.addr, tc.port)
			}
		})
	}
}

// FuzzParseRequest: the handshake parsers never panic or read past their
// input, and a request they accept is what appendRequest writes for the
// values they return (the reply echoes those bytes).
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte{5, 1, 0}, appendRequest(nil, cmdConnect, testHash, 0))
	f.Add([]byte{5, 2, 0, 2}, appendRequest(nil, cmdConnect, strings.ToUpper(testHash), 1))
	f.Add([]byte{5, 1, 2}, []byte{5, 1, 0, 1, 1, 2, 3, 4, 0, 80})
	f.Fuzz(func(t *testing.T, greeting, req []byte) {
		if n, _, err := parseGreeting(greeting); err == nil && (n < 3 || n > len(greeting)) {
			t.Fatalf("greeting took %d of %d bytes", n, len(greeting))
		}
		n, r, err := parseRequest(req)
		if err != nil {
			return
		}
		if n > len(req) {
			t.Fatalf("request took %d of %d bytes", n, len(req))
		}
		// The same bytes, but for RSV (ignored) and the hex's case.
		want := bytes.Clone(req[:n])
		want[2] = 0
		copy(want[5:5+hashLen], strings.ToLower(string(want[5:5+hashLen])))
		if again := appendRequest(nil, cmdConnect, r.addr, r.port); !bytes.Equal(again, want) {
			t.Fatalf("re-encoded %x, parsed %x", again, want)
		}
	})
}
