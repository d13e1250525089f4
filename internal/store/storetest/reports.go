package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"parley/internal/store"
)

// AbuseReports is the suite of the abuse report conformance cases.
var AbuseReports = Suite{reportCases, []string{"alice", "bob"}}

func sameReport(a, b store.AbuseReport) bool {
	return a.Time.Equal(b.Time) && a.Reporter == b.Reporter && a.Reported == b.Reported &&
		a.Reason == b.Reason && a.Text == b.Text && slices.Equal(a.StanzaIDs, b.StanzaIDs)
}

var reportCases = []scenario{
	{"add_list_page", func(t *testing.T, ctx context.Context, s store.Store) {
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
		a := store.AbuseReport{Time: t0, Reporter: "alice", Reported: "spam@evil.example",
			Reason: "urn:xmpp:reporting:spam", Text: "buy ☃ now",
			StanzaIDs: []store.StanzaRef{{By: "alice@example.com", ID: "x1"}, {By: "alice@example.com", ID: "x 2"}}}
		b := store.AbuseReport{Time: t0.Add(time.Second), Reporter: "bob", Reported: "evil.example",
			Reason: "urn:xmpp:reporting:abuse"}
		c := a
		c.Time = t0.Add(2 * time.Second)
		var ids []int64
		for _, r := range []store.AbuseReport{a, b, c} {
			id, err := s.AddAbuseReport(ctx, r)
			wantErr(t, "AddAbuseReport", err, nil)
			ids = append(ids, id)
		}
		if !(ids[0] < ids[1] && ids[1] < ids[2]) {
			t.Fatalf("ids %v not increasing", ids)
		}
		all, err := s.AbuseReports(ctx, 0, 0)
		wantErr(t, "AbuseReports", err, nil)
		if len(all) != 3 || !sameReport(all[0], a) || !sameReport(all[1], b) || !sameReport(all[2], c) {
			t.Fatalf("AbuseReports = %+v, want a, b, c", all)
		}
		if len(all[1].StanzaIDs) != 0 {
			t.Errorf("b's stanza ids = %v, want none", all[1].StanzaIDs)
		}
		page, err := s.AbuseReports(ctx, ids[0], 1)
		wantErr(t, "AbuseReports page", err, nil)
		if len(page) != 1 || page[0].ID != ids[1] {
			t.Errorf("page after %d = %+v, want only %d", ids[0], page, ids[1])
		}
		rest, err := s.AbuseReports(ctx, ids[2], 10)
		if err != nil || len(rest) != 0 {
			t.Errorf("after the last = %+v, %v; want none", rest, err)
		}
	}},
	{"count_since_and_outlive_account", func(t *testing.T, ctx context.Context, s store.Store) {
		t0 := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
		for i := range 3 {
			_, err := s.AddAbuseReport(ctx, store.AbuseReport{Time: t0.Add(time.Duration(i) * time.Hour),
				Reporter: "alice", Reported: "x@y.example", Reason: "urn:xmpp:reporting:spam"})
			wantErr(t, "AddAbuseReport", err, nil)
		}
		for since, want := range map[time.Time]int{{}: 3, t0: 3, t0.Add(time.Hour): 2, t0.Add(3 * time.Hour): 0} {
			n, err := s.CountAbuseReports(ctx, "alice", since)
			if err != nil || n != want {
				t.Errorf("CountAbuseReports(alice, %v) = %d, %v; want %d", since, n, err, want)
			}
		}
		if n, err := s.CountAbuseReports(ctx, "bob", time.Time{}); err != nil || n != 0 {
			t.Errorf("CountAbuseReports(bob) = %d, %v; want 0", n, err)
		}
		wantErr(t, "DeleteUser", s.DeleteUser(ctx, "alice"), nil)
		all, err := s.AbuseReports(ctx, 0, 0)
		if err != nil || len(all) != 3 {
			t.Errorf("after deleting the reporter: %d reports, %v; want 3 (evidence stays)", len(all), err)
		}
	}},
}
