package retention

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/clock"
	"parley/internal/config"
	"parley/internal/store"
	"parley/internal/xmpptest"
)

func TestPolicyOf(t *testing.T) {
	d := func(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
	c := config.Retention{
		Archive: config.Period{Days: 365, Set: true},
		Offline: config.Period{Days: 30, Set: true},
		Policies: []config.RetentionPolicy{
			{Name: "desk", Users: []string{"alice@example.com", "bob@example.com"}, Rooms: []string{"desk@conference.example.com"},
				Archive: config.Period{Days: 2555, Set: true}},
			{Name: "short", Users: []string{"bob@example.com", "carol@example.com"}, Archive: config.Period{Days: 7, Set: true},
				Uploads: config.Period{Days: 1, Set: true}},
			{Name: "keep", Users: []string{"dave@example.com"}, Archive: config.Forever, Offline: config.Period{Days: 90, Set: true}},
		},
	}
	p := PolicyOf(c)
	tests := []struct {
		kind, owner string
		want        time.Duration
		own         bool
	}{
		{KindArchive, "alice", d(2555), true},
		{KindArchive, "bob", d(2555), true}, // the longest of desk and short
		{KindArchive, "carol", d(7), true},
		{KindArchive, "dave", 0, true}, // forever beats the site's year
		{KindArchive, "desk@conference.example.com", d(2555), true},
		{KindArchive, "erin", d(365), false},
		{KindOffline, "dave", d(90), true},
		{KindOffline, "bob", d(30), false},                         // short sets no offline period
		{KindOffline, "desk@conference.example.com", d(30), false}, // offline messages are accounts'; the lookup is harmless
		{KindUploads, "carol", d(1), true},
		{KindUploads, "erin", 0, false}, // the site keeps uploads forever
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got, own := p.Owners[tc.kind][tc.owner]
			if !own {
				got = p.Site[tc.kind]
			}
			if got != tc.want || own != tc.own {
				t.Errorf("%s of %s = %v (own %v), want %v (own %v)", tc.kind, tc.owner, got, own, tc.want, tc.own)
			}
		})
	}
	// Passes: carol (7d) first, then alice, bob and the room (2555d),
	// then everyone else at the site's 365 days, dave excluded too.
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ps := p.passes(KindArchive, now)
	if len(ps) != 3 || !slices.Equal(ps[0].scope.Owners, []string{"carol"}) || !ps[0].before.Equal(now.Add(-d(7))) ||
		!slices.Equal(ps[1].scope.Owners, []string{"alice", "bob", "desk@conference.example.com"}) ||
		ps[2].scope.Owners != nil || !slices.Equal(ps[2].scope.Except, []string{"alice", "bob", "carol", "dave", "desk@conference.example.com"}) ||
		!ps[2].before.Equal(now.Add(-d(365))) {
		t.Errorf("archive passes = %+v", ps)
	}
	if ps := p.passes(KindUploads, now); len(ps) != 1 || !slices.Equal(ps[0].scope.Owners, []string{"bob", "carol"}) {
		t.Errorf("upload passes = %+v, want bob's and carol's alone", ps)
	}
	if (Policy{Site: map[string]time.Duration{KindArchive: 0}}).removes() {
		t.Error("a policy keeping everything forever removes something")
	}
}

// recorder is the job's audit log and metrics.
type recorder struct {
	mu      sync.Mutex
	records []audit.Record
	removed map[string]int
	batches int
	runs    int
}

func (r *recorder) Emit(rec audit.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
}

func (r *recorder) RetentionDeleted(kind string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed[kind] += n
	r.batches++
}

func (r *recorder) RetentionRun(bool, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs++
}

func (r *recorder) lastRecord() (audit.Record, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.records) == 0 {
		return audit.Record{}, 0
	}
	return r.records[len(r.records)-1], len(r.records)
}

// TestJob: the job runs every Every on its clock, deletes what is older
// than each owner's period in batches of Batch with a Pause between them,
// keeps what is newer and what a hold covers, and records each run.
func TestJob(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, "alice", "bob", "carol")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	var msgs []store.ArchivedMessage
	for _, owner := range []string{"alice", "bob", "carol"} {
		// Five messages 100 days old, two a day old.
		for i := range 7 {
			age := 100 * day
			if i >= 5 {
				age = day
			}
			msgs = append(msgs, store.ArchivedMessage{Owner: owner, ID: fmt.Sprintf("%s-%d", owner, i), With: "x@example.net",
				Stamp: now.Add(-age).Add(time.Duration(i) * time.Second), Stanza: []byte("<message/>"), Text: "hello"})
		}
	}
	if err := st.AppendArchive(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateHold(ctx, store.LegalHold{Name: "bob", Users: []string{"bob"}}); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(now)
	rec := &recorder{removed: map[string]int{}}
	j := New(Options{Store: st, Clock: clk, Audit: rec, Metrics: rec, Every: time.Hour, Batch: 2, Pause: time.Second,
		Policy: Policy{
			Site:   map[string]time.Duration{KindArchive: 30 * day},
			Owners: map[string]map[string]time.Duration{KindArchive: {"carol": 0}}, // carol keeps forever
		}})
	defer j.Close()

	// Nothing runs before Every has passed.
	xmpptest.Eventually(t, 5*time.Second, func() error {
		if clk.Pending() != 1 {
			return fmt.Errorf("%d timers armed, want the job's", clk.Pending())
		}
		return nil
	})
	if _, n := rec.lastRecord(); n != 0 {
		t.Fatal("a run before its time")
	}
	clk.Advance(time.Hour)
	// alice's five old messages go in batches of two: 2, 2, 1, with a
	// pause after each full batch, on the fake clock.
	xmpptest.Eventually(t, 5*time.Second, func() error {
		if _, n := rec.lastRecord(); n == 1 {
			return nil
		}
		if clk.Pending() > 0 {
			clk.Advance(time.Second)
		}
		return fmt.Errorf("no run recorded")
	})
	r, _ := rec.lastRecord()
	if r.Action != audit.ActionRetention || r.Outcome != audit.OutcomeSuccess || r.Details["archive"] != "5" ||
		r.Details["offline"] != "0" || r.Actor != "retention" {
		t.Errorf("audit record %+v, want a successful run that removed 5 archived messages", r)
	}
	rec.mu.Lock()
	if rec.removed[KindArchive] != 5 || rec.batches != 3 || rec.runs != 1 {
		t.Errorf("metrics: removed %v in %d batches, %d runs; want 5 archived in 3 batches, 1 run", rec.removed, rec.batches, rec.runs)
	}
	rec.mu.Unlock()
	for owner, want := range map[string]int{"alice": 2, "bob": 7, "carol": 7} {
		p, err := st.QueryArchive(ctx, owner, store.ArchiveQuery{Count: true})
		if err != nil || p.Count != want {
			t.Errorf("%s keeps %d messages (%v), want %d", owner, p.Count, err, want)
		}
	}
	// Run on demand: nothing left to remove. bob's five held messages
	// are still examined, in batches with pauses on the fake clock.
	type result struct {
		rep Report
		err error
	}
	done := make(chan result, 1)
	go func() { rep, err := j.Run(ctx); done <- result{rep, err} }()
	var res result
	xmpptest.Eventually(t, 5*time.Second, func() error {
		select {
		case res = <-done:
			return nil
		default:
		}
		if clk.Pending() > 1 { // the loop's timer and the run's pause
			clk.Advance(time.Second)
		}
		return fmt.Errorf("the run goes on")
	})
	if res.err != nil || res.rep[KindArchive] != 0 {
		t.Errorf("Run = %v, %v; want nothing removed", res.rep, res.err)
	}
}

// TestCloseEndsARun: Close ends a run waiting between two batches, and
// the run is recorded as failed.
func TestCloseEndsARun(t *testing.T) {
	ctx := context.Background()
	st := newStore(t, "alice")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := st.StoreOffline(ctx, "alice", store.OfflineMessage{Stamp: now.Add(-48 * time.Hour), Stanza: []byte("<message/>")}); err != nil {
			t.Fatalf("StoreOffline %d: %v", i, err)
		}
	}
	clk := clock.NewFake(now)
	rec := &recorder{removed: map[string]int{}}
	j := New(Options{Store: st, Clock: clk, Audit: rec, Batch: 1, Pause: time.Hour,
		Policy: Policy{Site: map[string]time.Duration{KindOffline: 24 * time.Hour}}})
	done := make(chan error, 1)
	go func() { _, err := j.Run(ctx); done <- err }()
	// The loop's timer and the run's pause after its first batch.
	xmpptest.Eventually(t, 5*time.Second, func() error {
		if clk.Pending() != 2 {
			return fmt.Errorf("%d timers armed", clk.Pending())
		}
		return nil
	})
	j.Close()
	if err := <-done; err == nil {
		t.Error("Run after Close: no error")
	}
	r, _ := rec.lastRecord()
	if r.Outcome != audit.OutcomeFailure || r.Details["offline"] != "1" {
		t.Errorf("record %+v: want a failed run that removed 1 offline message", r)
	}
	if n, _ := st.CountOffline(ctx, "alice"); n != 2 {
		t.Errorf("%d offline messages left, want 2", n)
	}
}
