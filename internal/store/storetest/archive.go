package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"parley/internal/store"
)

// Archive is the suite of the archive conformance cases (XEP-0313 storage).
var Archive = Suite{archiveCases, nil}

var archiveT0 = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// msg is the i-th message of owner's archive: stamped i minutes after
// archiveT0, id "<owner>-<i>" (ids deliberately do not sort like the
// archive: order is the order of appending).
// closedWith returns a channel that yields err, to put back an outcome
// that was already received.
func closedWith(err error) <-chan error {
	c := make(chan error, 1)
	c <- err
	return c
}

func archMsg(owner string, i int, with, text string) store.ArchivedMessage {
	id := fmt.Sprintf("%s-%c%d", owner, 'z'-rune(i%26), i)
	return store.ArchivedMessage{
		Owner:  owner,
		ID:     id,
		With:   with,
		Stamp:  archiveT0.Add(time.Duration(i) * time.Minute),
		Stanza: []byte(`<message xmlns='jabber:client' id='` + id + `'><body>` + text + `</body></message>`),
		Text:   text,
	}
}

// fill appends n messages for owner, alternating between two contacts,
// and returns them in archive order.
func archFill(t *testing.T, ctx context.Context, s store.Store, owner string, n int) []store.ArchivedMessage {
	t.Helper()
	var msgs []store.ArchivedMessage
	for i := range n {
		with := "bob@example.net"
		if i%2 == 1 {
			with = "carol@example.org"
		}
		msgs = append(msgs, archMsg(owner, i, with, fmt.Sprintf("message number %d", i)))
	}
	must(t, "AppendArchive", s.AppendArchive(ctx, msgs))
	return msgs
}

func archIDs(msgs []store.ArchivedMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

// page queries and checks the ids, completeness and count (-1: not asked).
func archPage(t *testing.T, ctx context.Context, s store.Store, owner string, q store.ArchiveQuery,
	want []string, complete bool, count int) {
	t.Helper()
	q.Count = count >= 0
	p, err := s.QueryArchive(ctx, owner, q)
	must(t, "QueryArchive", err)
	wantStrings(t, fmt.Sprintf("ids of %+v", q), archIDs(p.Messages), want)
	if p.Complete != complete {
		t.Fatalf("Complete of %+v = %v, want %v", q, p.Complete, complete)
	}
	if p.Count != count {
		t.Fatalf("Count of %+v = %d, want %d", q, p.Count, count)
	}
}

var archiveCases = []scenario{
	{"round trip in append order", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		msgs := archFill(t, ctx, s, "alice", 5)
		p, err := s.QueryArchive(ctx, "alice", store.ArchiveQuery{Limit: 10})
		must(t, "QueryArchive", err)
		if len(p.Messages) != 5 || !p.Complete || p.Count != -1 {
			t.Fatalf("got %d messages, complete %v, count %d", len(p.Messages), p.Complete, p.Count)
		}
		for i, m := range p.Messages {
			w := msgs[i]
			if m.ID != w.ID || m.Owner != "alice" || m.With != w.With || !m.Stamp.Equal(w.Stamp) ||
				string(m.Stanza) != string(w.Stanza) || m.Text != w.Text {
				t.Fatalf("message %d = %+v, want %+v", i, m, w)
			}
		}
	}},
	{"zero stamp means now", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		before := time.Now()
		must(t, "AppendArchive", s.AppendArchive(ctx, []store.ArchivedMessage{{Owner: "alice", ID: "x", With: "b@c", Stanza: []byte("<message/>")}}))
		p, err := s.QueryArchive(ctx, "alice", store.ArchiveQuery{Limit: 1})
		must(t, "QueryArchive", err)
		recent(t, "Stamp", p.Messages[0].Stamp, before, time.Now())
	}},
	{"unknown owner stores nothing of the call", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		err := s.AppendArchive(ctx, []store.ArchivedMessage{archMsg("alice", 0, "b@c", "one"), archMsg("nobody", 1, "b@c", "two")})
		wantErr(t, "AppendArchive for an unknown owner", err, store.ErrNotFound)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Limit: 10}, nil, true, 0)
	}},
	{"duplicate id", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		m := archMsg("alice", 0, "b@c", "one")
		must(t, "AppendArchive", s.AppendArchive(ctx, []store.ArchivedMessage{m}))
		wantErr(t, "AppendArchive again", s.AppendArchive(ctx, []store.ArchivedMessage{m}), store.ErrExists)
		m.Owner = "bob" // ids are unique per owner only
		must(t, "AppendArchive for bob", s.AppendArchive(ctx, []store.ArchivedMessage{m}))
	}},
	{"paging forward", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		all := archIDs(archFill(t, ctx, s, "alice", 7))
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Limit: 3}, all[0:3], false, 7)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Limit: 3, After: all[2]}, all[3:6], false, 7)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Limit: 3, After: all[5]}, all[6:7], true, 7)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Limit: 3, After: all[6]}, nil, true, -1)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Limit: 1, After: all[5]}, all[6:7], true, -1)
	}},
	{"paging backward", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		all := archIDs(archFill(t, ctx, s, "alice", 7))
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Limit: 3, Last: true}, all[4:7], false, 7)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Limit: 3, Before: all[4]}, all[1:4], false, 7)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Limit: 3, Before: all[1]}, all[0:1], true, -1)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Limit: 3, Before: all[0]}, nil, true, -1)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Limit: 10, Last: true}, all, true, -1)
	}},
	{"limit zero counts only", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		archFill(t, ctx, s, "alice", 4)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{}, nil, false, 4)
	}},
	{"with and time filters", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		all := archIDs(archFill(t, ctx, s, "alice", 8))
		bob := []string{all[0], all[2], all[4], all[6]}
		archPage(t, ctx, s, "alice", store.ArchiveQuery{With: "bob@example.net", Limit: 10}, bob, true, 4)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{With: "bob@example.net", Limit: 2, After: bob[1]}, bob[2:4], true, 4)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{With: "nobody@example.net", Limit: 10}, nil, true, 0)
		// Start and End are inclusive: minutes 2..5.
		q := store.ArchiveQuery{Start: archiveT0.Add(2 * time.Minute), End: archiveT0.Add(5 * time.Minute), Limit: 10}
		archPage(t, ctx, s, "alice", q, all[2:6], true, 4)
		q.With = "carol@example.org"
		archPage(t, ctx, s, "alice", q, []string{all[3], all[5]}, true, 2)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Start: archiveT0.Add(time.Hour), Limit: 10}, nil, true, 0)
	}},
	{"time bounds far from now", func(t *testing.T, ctx context.Context, s store.Store) {
		// Bounds outside 1678-2262 (the range of int64 Unix
		// nanoseconds) must compare as the times they are, not wrap.
		create(t, ctx, s, "alice")
		all := archIDs(archFill(t, ctx, s, "alice", 3))
		far := func(y int) time.Time { return time.Date(y, 12, 31, 23, 59, 59, 0, time.UTC) }
		for _, tc := range []struct {
			start, end time.Time
			want       []string
		}{
			{time.Time{}, far(9999), all},
			{far(2299), time.Time{}, nil},
			{far(1000), time.Time{}, all},
			{time.Time{}, far(1600), nil},
			{far(1), far(9999), all},
			{far(2262), far(9999), nil},
			{far(1000), archiveT0.Add(time.Minute), all[:2]},
		} {
			q := store.ArchiveQuery{Start: tc.start, End: tc.end, Limit: 10}
			archPage(t, ctx, s, "alice", q, tc.want, true, len(tc.want))
		}
	}},
	{"after-id, before-id and ids", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		all := archIDs(archFill(t, ctx, s, "alice", 8))
		bobs := archIDs(archFill(t, ctx, s, "bob", 2))
		archPage(t, ctx, s, "alice", store.ArchiveQuery{AfterID: all[1], BeforeID: all[6], Limit: 10}, all[2:6], true, 4)
		// The filter and the RSM cursor both bound the page.
		archPage(t, ctx, s, "alice", store.ArchiveQuery{AfterID: all[1], BeforeID: all[6], Limit: 2, Last: true}, all[4:6], false, 4)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{AfterID: all[1], Limit: 2, After: all[4]}, all[5:7], false, 6)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{AfterID: all[4], Limit: 10, After: all[1]}, all[5:8], true, -1)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{IDs: []string{all[5], all[1], all[5]}, Limit: 10}, []string{all[1], all[5]}, true, 2)
		for i, q := range []store.ArchiveQuery{
			{AfterID: "missing"}, {BeforeID: "missing"}, {After: "missing"}, {Before: "missing"},
			{IDs: []string{all[0], "missing"}},
			{AfterID: bobs[0]}, {IDs: []string{bobs[1]}}, // another owner's ids are unknown here
		} {
			q.Limit = 10
			_, err := s.QueryArchive(ctx, "alice", q)
			wantErr(t, fmt.Sprintf("query %d %+v", i, q), err, store.ErrNotFound)
		}
	}},
	{"queued appends keep the queuing order", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		var msgs []store.ArchivedMessage
		var waits []<-chan error
		for i := range 60 {
			m := archMsg("alice", i, "bob@example.net", "queued")
			msgs = append(msgs, m)
			waits = append(waits, s.QueueArchive(ctx, []store.ArchivedMessage{m}))
		}
		bad := s.QueueArchive(ctx, []store.ArchivedMessage{archMsg("nobody", 0, "b@c", "x")})
		// A taken id, likely in the same batch as the appends around it:
		// only its own request fails.
		taken := s.QueueArchive(ctx, []store.ArchivedMessage{archMsg("alice", 60, "bob@example.net", "new"), msgs[3]})
		last := archMsg("alice", 61, "bob@example.net", "queued")
		msgs = append(msgs, last)
		waits = append(waits, s.QueueArchive(ctx, []store.ArchivedMessage{last}))
		// SyncArchive returns only after everything queued before it.
		must(t, "SyncArchive", s.SyncArchive(ctx))
		for i, w := range waits {
			select {
			case err := <-w:
				waits[i] = closedWith(err)
			default:
				t.Fatalf("queued append %d still pending after SyncArchive", i)
			}
		}
		for i, w := range waits {
			must(t, fmt.Sprintf("queued append %d", i), <-w)
		}
		wantErr(t, "queued append for an unknown owner", <-bad, store.ErrNotFound)
		wantErr(t, "queued append of a taken id", <-taken, store.ErrExists)
		p, err := s.QueryArchive(ctx, "alice", store.ArchiveQuery{Limit: 100})
		must(t, "QueryArchive", err)
		wantStrings(t, "archive order", archIDs(p.Messages), archIDs(msgs))
	}},
	{"full-text", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "alice.b", "alice-b")
		texts := []string{
			"Meet me at the Café tomorrow",
			"the cafe is closed",
			"Tomorrow then, at noon",
			"",
			"CAFÉ or tea? Tomorrow!",
			`quotes " and (parens) AND OR NOT * ^ are just text`,
		}
		var msgs []store.ArchivedMessage
		for i, txt := range texts {
			msgs = append(msgs, archMsg("alice", i, "bob@example.net", txt))
		}
		must(t, "AppendArchive", s.AppendArchive(ctx, msgs))
		// Owners whose names tokenise alike must not see each other's.
		must(t, "AppendArchive", s.AppendArchive(ctx, []store.ArchivedMessage{
			archMsg("alice.b", 0, "x@y", "cafe tomorrow"), archMsg("alice-b", 0, "x@y", "cafe tomorrow")}))
		all := archIDs(msgs)
		for i, tc := range []struct {
			text string
			want []string
		}{
			{"cafe", []string{all[0], all[1], all[4]}},
			{"CAFÉ", []string{all[0], all[1], all[4]}},
			{"tomorrow café", []string{all[0], all[4]}},
			{"  tomorrow,  ", []string{all[0], all[2], all[4]}},
			{"coffee", nil},
			{`"parens" AND`, []string{all[5]}},
			{"NOT", []string{all[5]}},
			{"*", []string{all[0], all[1], all[2], all[3], all[4], all[5]}}, // no word: no text filter
		} {
			p, err := s.QueryArchive(ctx, "alice", store.ArchiveQuery{Text: tc.text, Limit: 10, Count: true})
			must(t, fmt.Sprintf("search %d %q", i, tc.text), err)
			wantStrings(t, fmt.Sprintf("search %d %q", i, tc.text), archIDs(p.Messages), tc.want)
			if p.Count != len(tc.want) {
				t.Fatalf("search %d %q: count %d, want %d", i, tc.text, p.Count, len(tc.want))
			}
		}
		// Search pages both ways and combines with other filters.
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Text: "tomorrow", Limit: 2}, []string{all[0], all[2]}, false, 3)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Text: "tomorrow", Limit: 2, After: all[2]}, []string{all[4]}, true, 3)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Text: "tomorrow", Limit: 2, Last: true}, []string{all[2], all[4]}, false, 3)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Text: "tomorrow", Limit: 2, Before: all[2]}, []string{all[0]}, true, 3)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Text: "tomorrow", Start: archiveT0.Add(time.Minute), Limit: 9}, []string{all[2], all[4]}, true, 2)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Text: "tomorrow", With: "x@y", Limit: 9}, nil, true, 0)
	}},
	{"retract: a tombstone replaces the message", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		room := "coven@conference.example.com"
		must(t, "PutRoom", s.PutRoom(ctx, store.Room{JID: room, Config: []byte("{}"), Secret: []byte("s")}))
		for _, owner := range []string{"alice", room} {
			msgs := []store.ArchivedMessage{
				archMsg(owner, 0, "bob@example.net", "secret plans"),
				archMsg(owner, 1, "bob@example.net", "secret recipe"),
				archMsg(owner, 2, "carol@example.org", "other news"),
			}
			must(t, "AppendArchive", s.AppendArchive(ctx, msgs))
			tomb := []byte(`<message xmlns='jabber:client' id='` + msgs[1].ID +
				`'><retracted xmlns='urn:xmpp:message-retract:1' stamp='2025-03-04T06:00:00Z'/></message>`)
			must(t, "RetractArchived", s.RetractArchived(ctx, owner, msgs[1].ID, tomb))
			// Same id, place, stamp and With; the stanza is the
			// tombstone, and search no longer finds it.
			p, err := s.QueryArchive(ctx, owner, store.ArchiveQuery{Limit: 10})
			must(t, "QueryArchive", err)
			wantStrings(t, owner+" archive after the retraction", archIDs(p.Messages), archIDs(msgs))
			got := p.Messages[1]
			if !got.Stamp.Equal(msgs[1].Stamp) || got.With != msgs[1].With || string(got.Stanza) != string(tomb) || got.Text != "" {
				t.Fatalf("%s: tombstone = %+v", owner, got)
			}
			if string(p.Messages[0].Stanza) != string(msgs[0].Stanza) || string(p.Messages[2].Stanza) != string(msgs[2].Stanza) {
				t.Fatalf("%s: the other messages changed: %+v", owner, p.Messages)
			}
			archPage(t, ctx, s, owner, store.ArchiveQuery{Text: "secret", Limit: 10}, archIDs(msgs[:1]), true, 1)
			archPage(t, ctx, s, owner, store.ArchiveQuery{Text: "recipe", Limit: 10}, nil, true, 0)
			archPage(t, ctx, s, owner, store.ArchiveQuery{With: "bob@example.net", Limit: 10}, archIDs(msgs[:2]), true, 2)
			// Retracting again replaces the tombstone (a moderation
			// after a retraction, say).
			must(t, "RetractArchived again", s.RetractArchived(ctx, owner, msgs[1].ID, tomb))
			wantErr(t, "RetractArchived of an unknown id",
				s.RetractArchived(ctx, owner, "missing", tomb), store.ErrNotFound)
		}
		wantErr(t, "RetractArchived of another owner's id",
			s.RetractArchived(ctx, "alice", archMsg(room, 0, "", "").ID, nil), store.ErrNotFound)
	}},
	{"metadata", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		md, err := s.ArchiveMetadata(ctx, "alice")
		must(t, "ArchiveMetadata", err)
		if md != (store.ArchiveMetadata{}) {
			t.Fatalf("metadata of an empty archive = %+v", md)
		}
		msgs := archFill(t, ctx, s, "alice", 3)
		md, err = s.ArchiveMetadata(ctx, "alice")
		must(t, "ArchiveMetadata", err)
		if md.FirstID != msgs[0].ID || md.LastID != msgs[2].ID ||
			!md.FirstStamp.Equal(msgs[0].Stamp) || !md.LastStamp.Equal(msgs[2].Stamp) {
			t.Fatalf("metadata = %+v, want %s..%s", md, msgs[0].ID, msgs[2].ID)
		}
	}},
	{"delete archive and account", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		archFill(t, ctx, s, "alice", 3)
		bobs := archIDs(archFill(t, ctx, s, "bob", 3))
		must(t, "DeleteArchive", s.DeleteArchive(ctx, "alice"))
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Limit: 10}, nil, true, 0)
		archPage(t, ctx, s, "alice", store.ArchiveQuery{Text: "message", Limit: 10}, nil, true, 0)
		archPage(t, ctx, s, "bob", store.ArchiveQuery{Text: "message", Limit: 10}, bobs, true, 3)
		must(t, "SetArchivePrefs", s.SetArchivePrefs(ctx, "bob", store.ArchivePrefs{Default: store.ArchiveNever}))
		must(t, "DeleteUser", s.DeleteUser(ctx, "bob"))
		create(t, ctx, s, "bob")
		archPage(t, ctx, s, "bob", store.ArchiveQuery{Limit: 10}, nil, true, 0)
		archPage(t, ctx, s, "bob", store.ArchiveQuery{Text: "message", Limit: 10}, nil, true, 0)
		_, err := s.ArchivePrefs(ctx, "bob")
		wantErr(t, "ArchivePrefs after re-creating the account", err, store.ErrNotFound)
	}},
	{"preferences", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		_, err := s.ArchivePrefs(ctx, "alice")
		wantErr(t, "ArchivePrefs before any set", err, store.ErrNotFound)
		p := store.ArchivePrefs{Default: store.ArchiveRoster,
			Always: []string{"z@example.net", "a@example.net", "a@example.net"}, Never: []string{"m@example.net/r"}}
		must(t, "SetArchivePrefs", s.SetArchivePrefs(ctx, "alice", p))
		got, err := s.ArchivePrefs(ctx, "alice")
		must(t, "ArchivePrefs", err)
		if got.Default != store.ArchiveRoster {
			t.Fatalf("Default = %q", got.Default)
		}
		wantStrings(t, "Always", got.Always, []string{"a@example.net", "z@example.net"})
		wantStrings(t, "Never", got.Never, []string{"m@example.net/r"})
		must(t, "SetArchivePrefs", s.SetArchivePrefs(ctx, "alice", store.ArchivePrefs{Default: store.ArchiveAlways}))
		got, err = s.ArchivePrefs(ctx, "alice")
		must(t, "ArchivePrefs", err)
		if got.Default != store.ArchiveAlways || len(got.Always) != 0 || len(got.Never) != 0 {
			t.Fatalf("after replacing: %+v", got)
		}
		wantErr(t, "SetArchivePrefs for an unknown user",
			s.SetArchivePrefs(ctx, "nobody", store.ArchivePrefs{Default: store.ArchiveNever}), store.ErrNotFound)
	}},
	{"concurrent appends all land", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice", "bob")
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for g := range 32 {
			wg.Go(func() {
				for i := range 10 {
					owner := []string{"alice", "bob"}[g%2]
					m := archMsg(owner, g*100+i, "x@y", "parallel")
					if err := s.AppendArchive(ctx, []store.ArchivedMessage{m}); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for _, owner := range []string{"alice", "bob"} {
			p, err := s.QueryArchive(ctx, owner, store.ArchiveQuery{Limit: 1000, Count: true})
			must(t, "QueryArchive", err)
			if len(p.Messages) != 160 || p.Count != 160 {
				t.Fatalf("%s: %d messages, count %d, want 160", owner, len(p.Messages), p.Count)
			}
			// Each goroutine's messages keep their order.
			pos := map[string]int{}
			for i, m := range p.Messages {
				pos[m.ID] = i
			}
			for g := range 32 {
				if []string{"alice", "bob"}[g%2] != owner {
					continue
				}
				var seen []int
				for i := range 10 {
					seen = append(seen, pos[archMsg(owner, g*100+i, "", "").ID])
				}
				if !slices.IsSorted(seen) {
					t.Fatalf("goroutine %d's messages out of order: %v", g, seen)
				}
			}
		}
	}},
	{"cancelled context", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err := s.AppendArchive(cctx, []store.ArchivedMessage{archMsg("alice", 0, "x@y", "late")})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("AppendArchive with a cancelled context: %v", err)
		}
	}},
}
