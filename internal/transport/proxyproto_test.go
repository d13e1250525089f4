package transport

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// proxyV2 builds a version 2 header: cmd 0 LOCAL / 1 PROXY, fam as in
// §2.2 (0x11 TCP over IPv4, 0x21 TCP over IPv6), body the addresses and
// TLVs.
func proxyV2(cmd, fam byte, body []byte) []byte {
	b := append([]byte{}, proxyV2Sig...)
	b = append(b, 0x20|cmd, fam, 0, 0)
	binary.BigEndian.PutUint16(b[14:], uint16(len(body)))
	return append(b, body...)
}

func inet4(src, dst string, sport, dport uint16) []byte {
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	b := append(s[:], d[:]...)
	b = binary.BigEndian.AppendUint16(b, sport)
	return binary.BigEndian.AppendUint16(b, dport)
}

func inet6(src, dst string, sport, dport uint16) []byte {
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	b := append(s[:], d[:]...)
	b = binary.BigEndian.AppendUint16(b, sport)
	return binary.BigEndian.AppendUint16(b, dport)
}

func TestParseProxyHeader(t *testing.T) {
	tlv := []byte{0x05, 0x00, 0x04, 'a', 'b', 'c', 'd'} // PP2_TYPE_UNIQUE_ID
	tests := []struct {
		in   string
		src  string // "" for keep-the-connection's
		n    int    // header length; -1 for the whole input
		want error  // nil, ErrNotProxy, errProxyShort or ErrProxyHeader
	}{
		0:  {in: "PROXY TCP4 192.0.2.1 198.51.100.1 56324 5222\r\n<stream", src: "192.0.2.1:56324", n: 46},
		1:  {in: "PROXY TCP6 2001:db8::1 2001:db8::2 4000 5222\r\n", src: "[2001:db8::1]:4000", n: -1},
		2:  {in: "PROXY UNKNOWN\r\n", n: -1},
		3:  {in: "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n", n: -1},
		4:  {in: "PROXY TCP4 192.0.2.1 198.51.100.1 56324", want: errProxyShort},
		5:  {in: "PRO", want: errProxyShort},
		6:  {in: "<stream:stream>", want: ErrNotProxy},
		7:  {in: "\x16\x03\x01", want: ErrNotProxy},
		8:  {in: "PROXIMITY", want: ErrNotProxy},
		9:  {in: "PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n", want: ErrProxyHeader},
		10: {in: "PROXY TCP4 192.0.2.1 198.51.100.1 65536 2\r\n", want: ErrProxyHeader},
		11: {in: "PROXY TCP4 192.0.2.1 198.51.100.1 01 2\r\n", want: ErrProxyHeader},
		12: {in: "PROXY TCP4 192.0.2.1 198.51.100.1 1\r\n", want: ErrProxyHeader},
		13: {in: "PROXY UDP4 192.0.2.1 198.51.100.1 1 2\r\n", want: ErrProxyHeader},
		14: {in: "PROXY TCP4 " + strings.Repeat("1", 100), want: ErrProxyHeader},
		15: {in: string(proxyV2(1, 0x11, inet4("192.0.2.7", "198.51.100.1", 1234, 5222))) + "<", src: "192.0.2.7:1234", n: 28},
		16: {in: string(proxyV2(1, 0x21, append(inet6("2001:db8::7", "2001:db8::1", 99, 5223), tlv...))), src: "[2001:db8::7]:99", n: -1},
		17: {in: string(proxyV2(1, 0x21, inet6("::ffff:192.0.2.8", "::1", 7, 8))), src: "192.0.2.8:7", n: -1},
		18: {in: string(proxyV2(0, 0x00, nil)), n: -1},                                      // LOCAL
		19: {in: string(proxyV2(1, 0x12, inet4("192.0.2.7", "198.51.100.1", 1, 2))), n: -1}, // DGRAM
		20: {in: string(proxyV2(1, 0x31, make([]byte, 216))), n: -1},                        // AF_UNIX
		21: {in: string(proxyV2(1, 0x11, inet4("192.0.2.7", "198.51.100.1", 1, 2)))[:20], want: errProxyShort},
		22: {in: string(proxyV2(1, 0x11, []byte{1, 2, 3})), want: ErrProxyHeader},
		23: {in: string(proxyV2(1, 0x21, inet4("192.0.2.7", "198.51.100.1", 1, 2))), want: ErrProxyHeader},
		24: {in: string(proxyV2(2, 0x11, inet4("192.0.2.7", "198.51.100.1", 1, 2))), want: ErrProxyHeader},
		25: {in: string(append(append([]byte{}, proxyV2Sig...), 0x11, 0x11, 0, 12)), want: ErrProxyHeader}, // version 1
		26: {in: string(append(append([]byte{}, proxyV2Sig...), 0x21, 0x11, 0xff, 0xff)), want: ErrProxyHeader},
		27: {in: "\r\n\r\n\x00\r\nQ", want: errProxyShort},
		28: {in: "", want: ErrNotProxy},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			src, n, err := ParseProxyHeader([]byte(tc.in))
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			want := tc.n
			if want < 0 {
				want = len(tc.in)
			}
			if n != want {
				t.Errorf("n = %d, want %d", n, want)
			}
			got := ""
			if src.IsValid() {
				got = src.String()
			}
			if got != tc.src {
				t.Errorf("src = %q, want %q", got, tc.src)
			}
		})
	}
}

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	tests := []struct {
		peer string
		xff  []string
		want string
	}{
		0:  {"127.0.0.1", []string{"192.0.2.1"}, "192.0.2.1"},
		1:  {"127.0.0.1", []string{"192.0.2.66, 192.0.2.1"}, "192.0.2.1"},   // the client's own claim is not believed
		2:  {"127.0.0.1", []string{"192.0.2.1, 10.1.2.3"}, "192.0.2.1"},     // a second trusted hop
		3:  {"127.0.0.1", []string{"192.0.2.1", "10.1.2.3"}, "192.0.2.1"},   // two headers
		4:  {"198.51.100.9", []string{"192.0.2.1"}, "198.51.100.9"},         // untrusted peer: ignored
		5:  {"127.0.0.1", nil, "127.0.0.1"},                                 // no header
		6:  {"127.0.0.1", []string{"not-an-ip"}, "127.0.0.1"},               // garbage
		7:  {"127.0.0.1", []string{"192.0.2.1, garbage"}, "127.0.0.1"},      // garbage nearest
		8:  {"127.0.0.1", []string{"2001:db8::1"}, "2001:db8::1"},           // IPv6
		9:  {"::ffff:127.0.0.1", []string{"::ffff:192.0.2.1"}, "192.0.2.1"}, // mapped
		10: {"127.0.0.1", []string{"10.0.0.1, 10.0.0.2"}, "10.0.0.1"},       // all trusted: the farthest
	}
	for i, tc := range tests {
		h := http.Header{}
		for _, v := range tc.xff {
			h.Add("X-Forwarded-For", v)
		}
		if got := ClientAddr(h, netip.MustParseAddr(tc.peer), trusted); got.String() != tc.want {
			t.Errorf("%d: ClientAddr = %s, want %s", i, got, tc.want)
		}
	}
}

// Over real sockets: from a trusted peer a header sets RemoteAddr and the
// bytes after it are read; a stream without one passes unchanged; a bad
// header or silence closes the connection. From an untrusted peer nothing
// is parsed.
func TestProxyListener(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	tests := []struct {
		trusted []netip.Prefix
		send    string
		remote  string // "" for the connection's own
		data    string // what reads from the accepted connection, "" for closed
	}{
		0: {loopback, "PROXY TCP4 192.0.2.1 198.51.100.1 1000 5222\r\n<stream/>", "192.0.2.1:1000", "<stream/>"},
		1: {loopback, string(proxyV2(1, 0x11, inet4("192.0.2.2", "198.51.100.1", 2000, 5222))) + "<stream/>", "192.0.2.2:2000", "<stream/>"},
		2: {loopback, "<stream/>", "", "<stream/>"},
		3: {loopback, string(proxyV2(0, 0, nil)) + "<x/>", "", "<x/>"},
		4: {loopback, "PROXY TCP4 nonsense\r\n<stream/>", "", ""},
		5: {[]netip.Prefix{netip.MustParsePrefix("192.0.2.99/32")}, "PROXY TCP4 192.0.2.1 198.51.100.1 1000 5222\r\n", "", "PROXY TCP4 192.0.2.1 198.51.100.1 1000 5222\r\n"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			l := NewProxyListener(NewListener(inner), tc.trusted)
			defer l.Close()
			c, err := net.Dial("tcp", inner.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, tc.send)
			if tc.data == "" { // closed without being handed out
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Read(make([]byte, 1)); err == nil {
					t.Fatal("the connection with a bad header was not closed")
				}
				return
			}
			sc, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			want := tc.remote
			if want == "" {
				want = c.LocalAddr().String()
			}
			if sc.RemoteAddr().String() != want {
				t.Errorf("RemoteAddr = %s, want %s", sc.RemoteAddr(), want)
			}
			got := make([]byte, len(tc.data))
			sc.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.ReadFull(sc, got); err != nil || string(got) != tc.data {
				t.Errorf("read %q %v, want %q", got, err, tc.data)
			}
		})
	}
}

// A trusted peer that sends nothing is closed after the header timeout,
// and does not hold up the others.
func TestProxyListenerSilentPeer(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &ProxyListener{Listener: NewListener(inner), trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		timeout: 50 * time.Millisecond, conns: make(chan net.Conn), done: make(chan struct{})}
	defer l.Close()
	silent, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	talker, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer talker.Close()
	// The talker's bytes wait in the kernel before the listener reads:
	// written after, they could come later than the header timeout.
	io.WriteString(talker, "<stream/>")
	go l.acceptLoop()
	sc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	sc.Close()
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("silent trusted peer: %v, want closed by the server", err)
	}
}
