package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"parley/internal/store"
)

// Audit is the suite of the audit log conformance cases.
var Audit = Suite{auditCases, nil}

// auditT0 has nanoseconds: the log's hashes cover them, so a backend that
// rounds times fails here.
var auditT0 = time.Date(2025, 6, 7, 8, 9, 10, 123456789, time.UTC)

func auditRec(seq int64, actor, action string) store.AuditRecord {
	return store.AuditRecord{
		Seq: seq, Time: auditT0.Add(time.Duration(seq) * time.Minute), Actor: actor, Action: action,
		Target: "bob@example.com", IP: "192.0.2.7", Outcome: "success", RequestID: fmt.Sprintf("r%d", seq),
		Prev: []byte{byte(seq - 1), 1, 2}, Hash: []byte{byte(seq), 3, 4},
	}
}

var auditCases = []scenario{
	{"append, head, read back exactly", func(t *testing.T, ctx context.Context, s store.Store) {
		_, err := s.AuditHead(ctx)
		wantErr(t, "AuditHead of an empty log", err, store.ErrNotFound)
		a, b := auditRec(1, "alice", "login"), auditRec(2, "admin", "account-deleted")
		b.Details = map[string]string{"mechanism": "SCRAM-SHA-256", "quote": `"<&>"`, "ü": "ß"}
		must(t, "AppendAudit", s.AppendAudit(ctx, []store.AuditRecord{a, b}, nil))
		head, err := s.AuditHead(ctx)
		must(t, "AuditHead", err)
		if !reflect.DeepEqual(head, b) {
			t.Fatalf("AuditHead = %+v, want %+v", head, b)
		}
		got, err := s.AuditRecords(ctx, store.AuditQuery{})
		must(t, "AuditRecords", err)
		if !reflect.DeepEqual(got, []store.AuditRecord{a, b}) {
			t.Fatalf("AuditRecords = %+v, want both as written", got)
		}
	}},
	{"a taken seq keeps nothing of the batch", func(t *testing.T, ctx context.Context, s store.Store) {
		must(t, "AppendAudit", s.AppendAudit(ctx, []store.AuditRecord{auditRec(1, "a", "login")}, nil))
		err := s.AppendAudit(ctx, []store.AuditRecord{auditRec(2, "a", "login"), auditRec(1, "b", "login")}, nil)
		wantErr(t, "AppendAudit with a taken seq", err, store.ErrExists)
		got, err := s.AuditRecords(ctx, store.AuditQuery{})
		must(t, "AuditRecords", err)
		if len(got) != 1 || got[0].Actor != "a" {
			t.Fatalf("AuditRecords = %+v, want only the first record", got)
		}
		cp := store.AuditCheckpoint{Seq: 1, Hash: []byte{1}, Time: auditT0, Signature: []byte{9}}
		must(t, "AppendAudit checkpoint", s.AppendAudit(ctx, nil, &cp))
		err = s.AppendAudit(ctx, []store.AuditRecord{auditRec(2, "a", "login")}, &cp)
		wantErr(t, "AppendAudit with a taken checkpoint", err, store.ErrExists)
		if _, err := s.AuditHead(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.AuditRecords(ctx, store.AuditQuery{}); len(got) != 1 {
			t.Fatalf("record 2 kept although its checkpoint failed: %+v", got)
		}
	}},
	{"query by seq, time, actor, action, limit", func(t *testing.T, ctx context.Context, s store.Store) {
		var recs []store.AuditRecord
		for i := int64(1); i <= 6; i++ {
			actor, action := "alice", "login"
			if i%2 == 0 {
				actor = "bob"
			}
			if i%3 == 0 {
				action = "login-failed"
			}
			recs = append(recs, auditRec(i, actor, action))
		}
		must(t, "AppendAudit", s.AppendAudit(ctx, recs, nil))
		seqs := func(q store.AuditQuery) []int64 {
			t.Helper()
			got, err := s.AuditRecords(ctx, q)
			must(t, "AuditRecords", err)
			var out []int64
			for _, r := range got {
				out = append(out, r.Seq)
			}
			return out
		}
		for i, tc := range []struct {
			q    store.AuditQuery
			want []int64
		}{
			{store.AuditQuery{After: 4}, []int64{5, 6}},
			{store.AuditQuery{Limit: 2}, []int64{1, 2}},
			{store.AuditQuery{Actor: "bob"}, []int64{2, 4, 6}},
			{store.AuditQuery{Action: "login-failed"}, []int64{3, 6}},
			{store.AuditQuery{Actor: "bob", Action: "login"}, []int64{2, 4}},
			// Since is inclusive, Until exclusive, to the nanosecond.
			{store.AuditQuery{Since: recs[1].Time, Until: recs[3].Time}, []int64{2, 3}},
			{store.AuditQuery{Since: recs[1].Time.Add(time.Nanosecond)}, []int64{3, 4, 5, 6}},
			{store.AuditQuery{Actor: "nobody"}, nil},
		} {
			if got := seqs(tc.q); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%d: AuditRecords(%+v) = %v, want %v", i, tc.q, got, tc.want)
			}
		}
	}},
	{"checkpoints in order", func(t *testing.T, ctx context.Context, s store.Store) {
		var cps []store.AuditCheckpoint
		for i := int64(1); i <= 3; i++ {
			cp := store.AuditCheckpoint{Seq: i * 10, Hash: []byte{byte(i)}, Time: auditT0.Add(time.Duration(i)), Signature: []byte{byte(i), 7}}
			must(t, "AppendAudit", s.AppendAudit(ctx, []store.AuditRecord{auditRec(i, "a", "login")}, &cp))
			cps = append(cps, cp)
		}
		got, err := s.AuditCheckpoints(ctx, 10, 10)
		must(t, "AuditCheckpoints", err)
		if !reflect.DeepEqual(got, cps[1:]) {
			t.Fatalf("AuditCheckpoints(10) = %+v, want %+v", got, cps[1:])
		}
		got, err = s.AuditCheckpoints(ctx, 0, 1)
		must(t, "AuditCheckpoints", err)
		if !reflect.DeepEqual(got, cps[:1]) {
			t.Fatalf("AuditCheckpoints(0, 1) = %+v, want %+v", got, cps[:1])
		}
	}},
	{"sink cursors", func(t *testing.T, ctx context.Context, s store.Store) {
		seq, err := s.AuditCursor(ctx, "siem")
		must(t, "AuditCursor", err)
		if seq != 0 {
			t.Fatalf("AuditCursor of a new sink = %d, want 0", seq)
		}
		must(t, "SetAuditCursor", s.SetAuditCursor(ctx, "siem", 5))
		must(t, "SetAuditCursor", s.SetAuditCursor(ctx, "file", 2))
		must(t, "SetAuditCursor", s.SetAuditCursor(ctx, "siem", 9))
		for sink, want := range map[string]int64{"siem": 9, "file": 2} {
			if seq, err := s.AuditCursor(ctx, sink); err != nil || seq != want {
				t.Fatalf("AuditCursor(%s) = %d, %v; want %d", sink, seq, err, want)
			}
		}
	}},
	{"records outlive accounts", func(t *testing.T, ctx context.Context, s store.Store) {
		create(t, ctx, s, "alice")
		must(t, "AppendAudit", s.AppendAudit(ctx, []store.AuditRecord{auditRec(1, "alice", "account-created")}, nil))
		must(t, "DeleteUser", s.DeleteUser(ctx, "alice"))
		if got, err := s.AuditRecords(ctx, store.AuditQuery{Actor: "alice"}); err != nil || len(got) != 1 {
			t.Fatalf("AuditRecords after DeleteUser = %+v, %v; want the record", got, err)
		}
	}},
}
