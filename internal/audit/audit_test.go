package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/internal/clock"
	"parley/internal/store"
	"parley/internal/store/sqlite"
)

// testLog is a Log over a SQLite store in a temporary directory.
type testLog struct {
	*Log
	st   *sqlite.Store
	dir  string
	path string
}

func openTestLog(t testing.TB, o Options) *testLog {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "parley.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	o.Store, o.Key = st, key
	l, err := Open(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &testLog{Log: l, st: st, dir: dir, path: path}
}

func rec(i int) Record {
	return Record{Actor: fmt.Sprintf("user%d@example.com", i), Action: ActionLogin, IP: "192.0.2.1",
		Outcome: OutcomeSuccess, Details: map[string]string{"mechanism": "SCRAM-SHA-256"}}
}

// appendN appends n records, each durable before the next.
func (tl *testLog) appendN(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := tl.Append(t.Context(), rec(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func (tl *testLog) verify(t *testing.T) Report {
	t.Helper()
	pub, err := LoadPublicKey(tl.dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(t.Context(), tl.st, pub)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// tamper changes the database behind the store, as someone with the file
// would.
func (tl *testLog) tamper(t *testing.T, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", tl.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func (tl *testLog) record(t *testing.T, seq int64) Record {
	t.Helper()
	recs, err := Query(t.Context(), tl.st, store.AuditQuery{After: seq - 1, Limit: 1})
	if err != nil || len(recs) != 1 || recs[0].Seq != seq {
		t.Fatalf("record %d: %v %v", seq, recs, err)
	}
	return recs[0]
}

func TestChain(t *testing.T) {
	tl := openTestLog(t, Options{CheckpointEvery: 4})
	tl.appendN(t, 10)
	tl.Close()
	prev := make([]byte, 32)
	for s := int64(1); s <= 10; s++ {
		r := tl.record(t, s)
		if !bytes.Equal(r.Prev, prev) || !bytes.Equal(r.Hash, r.ComputeHash()) {
			t.Fatalf("record %d: prev %x want %x, hash %x want %x", s, r.Prev, prev, r.Hash, r.ComputeHash())
		}
		prev = r.Hash
	}
	cps, err := tl.st.AuditCheckpoints(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, c := range cps {
		seqs = append(seqs, c.Seq)
	}
	// Every 4 records, and the last one at Close.
	if fmt.Sprint(seqs) != "[4 8 10]" {
		t.Fatalf("checkpoints at %v, want [4 8 10]", seqs)
	}
	rep := tl.verify(t)
	if !rep.OK() || rep.Records != 10 || rep.Checkpoints != 3 || rep.Signed != 10 || strings.Contains(rep.String(), "not yet under") {
		t.Fatalf("Verify = %+v (%s), want intact with 10 records and 3 checkpoints", rep, rep)
	}
}

// TestTamper changes, removes, inserts and reorders records directly in
// the database; Verify names the first record concerned and whether the
// rest holds.
func TestTamper(t *testing.T) {
	renumber := func(from int, by int) []string {
		return []string{
			fmt.Sprintf("UPDATE audit_log SET seq = -seq WHERE seq >= %d", from),
			fmt.Sprintf("UPDATE audit_log SET seq = -seq + (%d) WHERE seq < 0", by),
		}
	}
	tests := []struct {
		name      string
		tamper    func(t *testing.T, tl *testLog)
		kind      string
		seq       int64
		restHolds bool
	}{
		{"edited", func(t *testing.T, tl *testLog) {
			tl.tamper(t, "UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 5")
		}, ProblemChanged, 5, true},
		{"edited details", func(t *testing.T, tl *testLog) {
			tl.tamper(t, `UPDATE audit_log SET details = '{"mechanism":"PLAIN"}' WHERE seq = 5`)
		}, ProblemChanged, 5, true},
		{"edited with its hash recomputed", func(t *testing.T, tl *testLog) {
			r := tl.record(t, 5)
			r.Outcome = OutcomeFailure
			tl.tamper(t, fmt.Sprintf("UPDATE audit_log SET outcome = 'failure', hash = x'%x' WHERE seq = 5", r.ComputeHash()))
		}, ProblemChanged, 5, true},
		{"deleted", func(t *testing.T, tl *testLog) {
			tl.tamper(t, "DELETE FROM audit_log WHERE seq = 5")
		}, ProblemRemoved, 5, true},
		{"deleted and the rest renumbered", func(t *testing.T, tl *testLog) {
			tl.tamper(t, append([]string{"DELETE FROM audit_log WHERE seq = 5"}, renumber(6, -1)...)...)
		}, ProblemRemoved, 5, true},
		{"inserted", func(t *testing.T, tl *testLog) {
			forged := tl.record(t, 4)
			forged.Seq, forged.Prev, forged.Actor = 5, forged.Hash, "mallory@example.com"
			forged.Hash = forged.ComputeHash()
			tl.tamper(t, append(renumber(5, 1), fmt.Sprintf(`INSERT INTO audit_log
				(seq, time, actor, action, target, ip, outcome, request_id, details, prev, hash)
				SELECT 5, time, 'mallory@example.com', action, target, ip, outcome, request_id, details, x'%x', x'%x'
				FROM audit_log WHERE seq = 4`, forged.Prev, forged.Hash))...)
		}, ProblemInserted, 5, true},
		{"inserted without a chaining hash", func(t *testing.T, tl *testLog) {
			tl.tamper(t, append(renumber(5, 1), `INSERT INTO audit_log
				(seq, time, actor, action, target, ip, outcome, request_id, details, prev, hash)
				SELECT 5, time, 'mallory@example.com', action, target, ip, outcome, request_id, details, zeroblob(32), randomblob(32)
				FROM audit_log WHERE seq = 4`)...)
		}, ProblemInserted, 5, true},
		{"reordered", func(t *testing.T, tl *testLog) {
			tl.tamper(t, "UPDATE audit_log SET seq = -5 WHERE seq = 5", "UPDATE audit_log SET seq = 5 WHERE seq = 6",
				"UPDATE audit_log SET seq = 6 WHERE seq = -5")
		}, ProblemReordered, 5, true},
		{"moved three places", func(t *testing.T, tl *testLog) {
			tl.tamper(t, "UPDATE audit_log SET seq = -5 WHERE seq = 5", "UPDATE audit_log SET seq = seq - 1 WHERE seq BETWEEN 6 AND 8",
				"UPDATE audit_log SET seq = 8 WHERE seq = -5")
		}, ProblemReordered, 5, true},
		{"last removed", func(t *testing.T, tl *testLog) {
			tl.tamper(t, "DELETE FROM audit_log WHERE seq = 10")
		}, ProblemTruncated, 10, true},
		{"rewritten from 6 on with every hash recomputed", func(t *testing.T, tl *testLog) {
			prev := tl.record(t, 5).Hash
			var stmts []string
			for s := int64(6); s <= 10; s++ {
				r := tl.record(t, s)
				r.Prev, r.Target = prev, "nobody"
				r.Hash = r.ComputeHash()
				prev = r.Hash
				stmts = append(stmts, fmt.Sprintf("UPDATE audit_log SET target = 'nobody', prev = x'%x', hash = x'%x' WHERE seq = %d", r.Prev, r.Hash, s))
			}
			tl.tamper(t, stmts...)
		}, ProblemRewritten, 8, false},
		{"checkpoint forged", func(t *testing.T, tl *testLog) {
			tl.tamper(t, "UPDATE audit_checkpoints SET signature = zeroblob(64) WHERE seq = 4")
		}, ProblemForged, 4, true},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i)+"_"+tc.name, func(t *testing.T) {
			tl := openTestLog(t, Options{CheckpointEvery: 4})
			tl.appendN(t, 10)
			tl.Close()
			tc.tamper(t, tl)
			rep := tl.verify(t)
			if rep.OK() || rep.First.Kind != tc.kind || rep.First.Seq != tc.seq || rep.RestHolds() != tc.restHolds {
				t.Fatalf("Verify: %+v\n%s\nwant first problem %s at %d, rest holds %v", rep, rep, tc.kind, tc.seq, tc.restHolds)
			}
			t.Log(rep)
		})
	}
}

// TestTwoBreaks: a second, separate change means the rest does not hold.
func TestTwoBreaks(t *testing.T) {
	tl := openTestLog(t, Options{CheckpointEvery: 100})
	tl.appendN(t, 10)
	tl.Close()
	tl.tamper(t, "UPDATE audit_log SET actor = 'x' WHERE seq = 3", "DELETE FROM audit_log WHERE seq = 7")
	rep := tl.verify(t)
	if rep.OK() || rep.First.Kind != ProblemChanged || rep.First.Seq != 3 || rep.RestHolds() || rep.HoldsFrom != 8 {
		t.Fatalf("Verify: %+v\n%s", rep, rep)
	}
	if !strings.Contains(rep.String(), "does not hold") {
		t.Fatalf("report %q does not say the rest does not hold", rep)
	}
}

// TestReopen continues the chain where the store's head is.
func TestReopen(t *testing.T) {
	tl := openTestLog(t, Options{})
	tl.appendN(t, 3)
	tl.Close()
	key, _ := LoadOrCreateKey(tl.dir)
	l, err := Open(t.Context(), Options{Store: tl.st, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	seq, err := l.Append(t.Context(), rec(9))
	if err != nil || seq != 4 {
		t.Fatalf("Append after reopen = %d, %v; want 4", seq, err)
	}
	l.Close()
	if rep := tl.verify(t); !rep.OK() || rep.Records != 4 {
		t.Fatalf("Verify: %s", rep)
	}
}

// TestEmitConcurrent: records emitted from many goroutines all land, in
// one chain, batched.
func TestEmitConcurrent(t *testing.T) {
	tl := openTestLog(t, Options{CheckpointEvery: 50})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				tl.Emit(rec(g*1000 + i))
			}
		}()
	}
	wg.Wait()
	tl.Close()
	if rep := tl.verify(t); !rep.OK() || rep.Records != 800 {
		t.Fatalf("Verify: %s", rep)
	}
	if head, _ := tl.Head(); head != 800 {
		t.Fatalf("Head = %d, want 800", head)
	}
}

// TestCheckpointInterval: with records written since the last checkpoint,
// one is made when the interval passes.
func TestCheckpointInterval(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC))
	tl := openTestLog(t, Options{Clock: clk, CheckpointEvery: 1000, CheckpointInterval: time.Minute})
	tl.appendN(t, 2)
	clk.Advance(time.Minute)
	eventually(t, func() bool {
		cps, _ := tl.st.AuditCheckpoints(t.Context(), 0, 10)
		return len(cps) == 1 && cps[0].Seq == 2
	})
}

func TestAppendAfterClose(t *testing.T) {
	tl := openTestLog(t, Options{})
	tl.Close()
	if _, err := tl.Append(context.Background(), rec(1)); err != ErrClosed {
		t.Fatalf("Append after Close: %v, want ErrClosed", err)
	}
}

// TestNormalise: what is hashed is what the store gives back, whatever a
// client put in a field.
func TestNormalise(t *testing.T) {
	tl := openTestLog(t, Options{})
	long := strings.Repeat("é", maxField)
	if _, err := tl.Append(t.Context(), Record{Actor: "a\x00b\xff", Action: ActionLoginFailed, Target: long,
		Details: map[string]string{"k\xfe": "v\x00"}}); err != nil {
		t.Fatal(err)
	}
	r := tl.record(t, 1)
	if r.Actor != "ab\uFFFD" || len(r.Target) > maxField || r.Details["k\uFFFD"] != "v" {
		t.Fatalf("stored %+v", r)
	}
	tl.Close()
	if rep := tl.verify(t); !rep.OK() {
		t.Fatalf("Verify: %s", rep)
	}
}

func TestExport(t *testing.T) {
	tl := openTestLog(t, Options{})
	tl.appendN(t, 3)
	if _, err := tl.Append(t.Context(), Record{Actor: "admin", Action: ActionAccountDeleted, Target: "bob@example.com"}); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	n, err := Export(t.Context(), tl.st, store.AuditQuery{Action: ActionAccountDeleted}, &b)
	if err != nil || n != 1 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["seq"] != 4.0 || got["actor"] != "admin" || got["target"] != "bob@example.com" || len(got["hash"].(string)) != 64 {
		t.Fatalf("exported %s", b.Bytes())
	}
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func openBenchLog(b *testing.B) *testLog { return openTestLog(b, Options{}) }

// TestUnsignedTail: records after the last checkpoint are reported as
// covered by the chain only.
func TestUnsignedTail(t *testing.T) {
	tl := openTestLog(t, Options{CheckpointEvery: 4})
	tl.appendN(t, 6) // a checkpoint at 4; the log stays open
	rep := tl.verify(t)
	if !rep.OK() || rep.Signed != 4 || !strings.Contains(rep.String(), "the last 2 records are not yet under a signed checkpoint") {
		t.Fatalf("Verify: %+v %s", rep, rep)
	}
}
