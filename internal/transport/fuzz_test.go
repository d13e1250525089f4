package transport

import (
	"errors"
	"testing"
)

// FuzzParseProxyHeader: any bytes give a header length within the input
// and one of the documented errors, never a panic; parsing just the
// header gives the same result; a header longer than ProxyHeaderMax is
// never accepted.
func FuzzParseProxyHeader(f *testing.F) {
	f.Add([]byte("PROXY TCP4 192.0.2.1 198.51.100.1 56324 5222\r\n<stream"))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Add(proxyV2(1, 0x11, inet4("192.0.2.7", "198.51.100.1", 1234, 5222)))
	f.Add(proxyV2(1, 0x21, inet6("2001:db8::7", "2001:db8::1", 99, 5223)))
	f.Add(proxyV2(0, 0, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		src, n, err := ParseProxyHeader(b)
		if err != nil {
			if !errors.Is(err, ErrNotProxy) && !errors.Is(err, ErrProxyHeader) && !errors.Is(err, errProxyShort) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if n <= 0 || n > len(b) || n > ProxyHeaderMax {
			t.Fatalf("header length %d of %d bytes", n, len(b))
		}
		src2, n2, err2 := ParseProxyHeader(b[:n])
		if err2 != nil || n2 != n || src2 != src {
			t.Fatalf("header alone parses as %v %d %v, with what follows as %v %d", src2, n2, err2, src, n)
		}
	})
}
