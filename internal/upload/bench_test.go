package upload

import (
	"crypto/rand"
	"net/http"
	"testing"
)

// BenchmarkPut is one upload of 4 MiB: slot request through the router,
// PUT over HTTPS (HTTP/2) into a fsynced file, the row in SQLite.
func BenchmarkPut(b *testing.B) {
	e := newEnv(b, func(o *Options) { o.QuotaBytes, o.DayBytes = 1<<40, 1<<40 })
	body := make([]byte, 4<<20)
	rand.Read(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		put, _ := e.slot("f.bin", len(body), "")
		resp := e.put(put, "", body)
		if resp.StatusCode != http.StatusCreated {
			b.Fatal(resp.Status)
		}
		resp.Body.Close()
	}
}
