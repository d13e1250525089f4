package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"parley/internal/store"
)

// Incidents is the suite of the supervision queue and DLP policy conformance
// cases.
var Incidents = Suite{incidentCases, []string{"alice"}}

var incidentCases = []scenario{
	{"add_list_open_review", func(t *testing.T, ctx context.Context, s store.Store) {
		t0 := time.Date(2026, 3, 4, 5, 6, 7, 8000, time.UTC)
		a := store.Incident{Time: t0, Source: store.IncidentDLP, Action: "block", Policies: []string{"cards", "keys"},
			Detectors: []string{"card"}, Field: "body", Sender: "alice@example.com/phone", Target: "bob@example.com",
			Summary: "card ×1", Stanza: []byte("<message><body>4111 1111 1111 1111</body></message>")}
		b := store.Incident{Time: t0.Add(time.Second), Source: store.IncidentAbuseReport, Sender: "bob@example.com",
			Target: "spam@evil.example", Summary: "spam", ReportID: 7}
		ida, err := s.AddIncident(ctx, a)
		wantErr(t, "AddIncident a", err, nil)
		idb, err := s.AddIncident(ctx, b)
		wantErr(t, "AddIncident b", err, nil)
		if idb <= ida {
			t.Fatalf("ids %d, %d not increasing", ida, idb)
		}
		_, err = s.AddIncident(ctx, b)
		wantErr(t, "AddIncident for the same report", err, store.ErrExists)
		if n, err := s.LastReportIncident(ctx); err != nil || n != 7 {
			t.Errorf("LastReportIncident = %d, %v; want 7", n, err)
		}
		all, err := s.Incidents(ctx, store.IncidentQuery{})
		wantErr(t, "Incidents", err, nil)
		if len(all) != 2 || all[0].ID != ida || all[1].ID != idb || all[0].State != store.IncidentOpen ||
			!slices.Equal(all[0].Policies, a.Policies) || all[0].Stanza != nil || !all[0].Time.Equal(t0) ||
			all[1].ReportID != 7 || len(all[1].Policies) != 0 {
			t.Fatalf("Incidents = %+v", all)
		}
		page, err := s.Incidents(ctx, store.IncidentQuery{After: ida, Max: 1})
		if err != nil || len(page) != 1 || page[0].ID != idb {
			t.Errorf("page after a = %+v, %v", page, err)
		}
		dlp, err := s.Incidents(ctx, store.IncidentQuery{Source: store.IncidentDLP})
		if err != nil || len(dlp) != 1 || dlp[0].ID != ida {
			t.Errorf("dlp only = %+v, %v", dlp, err)
		}

		n1 := store.IncidentNote{Time: t0.Add(time.Minute), Reviewer: "admin-token:r1", Text: "looking"}
		n2 := store.IncidentNote{Time: t0.Add(2 * time.Minute), Reviewer: "admin-token:r2", State: store.IncidentEscalated, Text: "legal"}
		wantErr(t, "note", s.ReviewIncident(ctx, ida, n1), nil)
		wantErr(t, "escalate", s.ReviewIncident(ctx, ida, n2), nil)
		wantErr(t, "review nothing", s.ReviewIncident(ctx, 1<<40, n1), store.ErrNotFound)
		got, err := s.Incident(ctx, ida)
		wantErr(t, "Incident", err, nil)
		if got.State != store.IncidentEscalated || string(got.Stanza) != string(a.Stanza) || !got.Updated.Equal(n2.Time) ||
			len(got.Notes) != 2 || got.Notes[0] != n1 || got.Notes[1] != n2 {
			t.Fatalf("Incident = %+v", got)
		}
		open, err := s.Incidents(ctx, store.IncidentQuery{State: store.IncidentOpen})
		if err != nil || len(open) != 1 || open[0].ID != idb {
			t.Errorf("open = %+v, %v; want only b", open, err)
		}
		_, err = s.Incident(ctx, 1<<40)
		wantErr(t, "Incident of nothing", err, store.ErrNotFound)
		// Evidence outlives the account.
		wantErr(t, "DeleteUser", s.DeleteUser(ctx, "alice"), nil)
		if _, err := s.Incident(ctx, ida); err != nil {
			t.Errorf("after the sender's deletion: %v", err)
		}
	}},
	{"dlp_policies", func(t *testing.T, ctx context.Context, s store.Store) {
		t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		p := store.DLPPolicy{Name: "cards", Spec: []byte(`{"name":"cards"}`), Updated: t0, UpdatedBy: "admin-token:x"}
		q := store.DLPPolicy{Name: "b-keys", Spec: []byte(`{"name":"b-keys"}`), Updated: t0, UpdatedBy: "admin-token:y"}
		wantErr(t, "Put p", s.PutDLPPolicy(ctx, p), nil)
		wantErr(t, "Put q", s.PutDLPPolicy(ctx, q), nil)
		p.Spec, p.Updated = []byte(`{"name":"cards","action":"block"}`), t0.Add(time.Hour)
		wantErr(t, "Put p again", s.PutDLPPolicy(ctx, p), nil)
		list, err := s.DLPPolicies(ctx)
		wantErr(t, "DLPPolicies", err, nil)
		if len(list) != 2 || list[0].Name != "b-keys" || list[1].Name != "cards" || string(list[1].Spec) != string(p.Spec) ||
			!list[1].Updated.Equal(p.Updated) || list[1].UpdatedBy != p.UpdatedBy {
			t.Fatalf("DLPPolicies = %+v", list)
		}
		wantErr(t, "Delete", s.DeleteDLPPolicy(ctx, "cards"), nil)
		wantErr(t, "Delete again", s.DeleteDLPPolicy(ctx, "cards"), store.ErrNotFound)
		if list, _ := s.DLPPolicies(ctx); len(list) != 1 {
			t.Errorf("after delete: %+v", list)
		}
	}},
}
