package adminapi

import (
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"parley/internal/control"
	"parley/internal/jid"
	"parley/internal/store"
	"parley/internal/store/sqlite"
)

// BenchmarkExport measures GET /api/v1/me/export of an account with
// 10,000 archived messages on SQLite: time and bytes per export.
func BenchmarkExport(b *testing.B) {
	ctx := b.Context()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "parley.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.CreateUser(ctx, store.User{Username: "alice", Created: time.Now()}); err != nil {
		b.Fatal(err)
	}
	const n = 10000
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i += store.MaxAppend {
		var msgs []store.ArchivedMessage
		for j := i; j < i+store.MaxAppend; j++ {
			body := fmt.Sprintf("message number %d, about as long as a chat line", j)
			msgs = append(msgs, store.ArchivedMessage{Owner: "alice", ID: fmt.Sprintf("m%06d", j), With: "bob@localhost",
				Stamp: t0.Add(time.Duration(j) * time.Second), Text: body,
				Stanza: []byte(`<message xmlns='jabber:client' type='chat' from='bob@localhost/desk' to='alice@localhost'><body>` + body + `</body></message>`)})
		}
		if err := st.AppendArchive(ctx, msgs); err != nil {
			b.Fatal(err)
		}
	}
	ops := &control.Ops{Domain: jid.MustParse("localhost"), Users: st, Tokens: st}
	tok, _, err := ops.CreateToken(ctx, control.RoleUser, "bench", "alice", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	a := New(Options{Ops: ops, Tokens: st, Data: st})
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		req := httptest.NewRequest("GET", "/api/v1/me/export", nil)
		req.RemoteAddr = "127.0.0.1:1"
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		size = int64(w.Body.Len())
		io.Copy(io.Discard, w.Body)
	}
	b.ReportMetric(float64(size), "zip-bytes")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/n, "µs/message")
}
