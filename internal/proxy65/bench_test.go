package proxy65

import (
	"io"
	"strconv"
	"testing"
)

// BenchmarkRelay moves 64 MiB per op through one activated stream over
// loopback, the rate limit out of the way: the proxy's own cost per byte
// (b.SetBytes gives MB/s).
func BenchmarkRelay(b *testing.B) {
	m, addr := startProxy(b, Options{BytesPerSecond: 1 << 40})
	chunk := random(1 << 20)
	const per = 64
	b.SetBytes(per << 20)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		hash := StreamHash("bench-"+strconv.Itoa(i), initiator, target)
		tc, ic := pair(b, addr, hash)
		if err := m.activate(hash, initiator); err != nil {
			b.Fatal(err)
		}
		go func() {
			for range per {
				ic.Write(chunk)
			}
			ic.CloseWrite()
		}()
		n, err := io.Copy(io.Discard, tc)
		if err != nil || n != per<<20 {
			b.Fatalf("read %d, %v", n, err)
		}
		tc.Close()
		ic.Close()
	}
}
