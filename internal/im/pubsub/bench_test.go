package pubsub_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/im/pubsub"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store/sqlite"
	"parley/internal/xmlstream"
)

// BenchmarkPublish100 is one publish to a node of the service with 100
// subscribers on SQLite: storing the item (one write) and notifying each
// subscriber's session. ns/delivery is the whole cost spread over the
// notifications.
func BenchmarkPublish100(b *testing.B) {
	const n = 100
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	accounts := imtest.Accounts{"owner": true}
	for i := range n {
		accounts["u"+strconv.Itoa(i)] = true
	}
	r := router.New(jid.MustParse("example.com"), accounts, log)
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "parley.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	pubsub.New(pubsub.Options{Store: st, Log: log}).Register(r)
	route := func(s *imtest.Session, raw string) {
		q := imtest.Parse(b, raw)
		q.SetFrom(s.JID())
		r.Route(ctx, q)
	}
	owner := imtest.NewSession(b, "owner@example.com/desk")
	r.Bind(owner)
	owner.Discard(true)
	route(owner, `<iq xmlns='jabber:client' type='set' id='c' to='pubsub.example.com'><pubsub xmlns='`+pubsub.NS+`'><create node='n'/></pubsub></iq>`)
	var subs []*imtest.Session
	for i := range n {
		s := imtest.NewSession(b, "u"+strconv.Itoa(i)+"@example.com/r")
		r.Bind(s)
		s.Discard(true)
		route(s, `<iq xmlns='jabber:client' type='set' id='s' to='pubsub.example.com'><pubsub xmlns='`+pubsub.NS+
			`'><subscribe node='n' jid='`+s.JID().String()+`'/></pubsub></iq>`)
		subs = append(subs, s)
	}
	for _, s := range subs {
		s.Sent() // counts from here
	}
	raw := []byte(`<iq type='set' id='p' to='pubsub.example.com'><pubsub xmlns='` + pubsub.NS + `'><publish node='n'><item id='current'>` +
		`<entry xmlns='http://www.w3.org/2005/Atom'><title>Soliloquy</title><summary>To be, or not to be: that is the question</summary></entry></item></publish></pubsub></iq>`)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		el, err := xmlstream.ParseIn(raw, xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient))
		if err != nil {
			b.Fatal(err)
		}
		q, _ := stanza.Parse(el)
		q.SetFrom(owner.JID())
		r.Route(ctx, q)
	}
	b.StopTimer()
	got := 0
	for _, s := range subs {
		got += s.Sent()
	}
	if got != n*b.N {
		b.Fatalf("delivered %d notifications, want %d", got, n*b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/delivery")
}
