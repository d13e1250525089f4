package adminapi

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/clock"
	"parley/internal/control"
	"parley/internal/jid"
	"parley/internal/store/sqlite"
)

// records keeps the audit records the API emits.
type records []audit.Record

func (r *records) Emit(rec audit.Record) { *r = append(*r, rec) }

// TestAuthBackoff: after authFree bad tokens from one address, each
// further one closes the API to that address (its /64 for IPv6) for a
// doubling time: 429 with Retry-After and a problem, before any token is
// looked at (a good one too), not audited; another address is not
// affected; after the wait one more try is let through; authForget
// after the last failure all is forgotten.
func TestAuthBackoff(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ops := &control.Ops{Domain: jid.MustParse("localhost"), Users: st, Tokens: st}
	good, _, err := ops.CreateToken(context.Background(), control.RoleAdmin, "good", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	var recs records
	a := New(Options{Ops: ops, Tokens: st, Audit: &recs, Now: clk.Now})
	call := func(remote, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/api/v1/tokens", nil)
		req.RemoteAddr = remote
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		return w
	}
	const attacker, neighbour, other = "[2001:db8:1:2::1]:4000", "[2001:db8:1:2::ffff]:4001", "192.0.2.7:5000"
	for i := range authFree {
		if w := call(attacker, "parley_guess"+strconv.Itoa(i)); w.Code != 401 {
			t.Fatalf("guess %d: %d", i, w.Code)
		}
	}
	if w := call(attacker, good); w.Code != 200 {
		t.Fatalf("good token after %d failures: %d, want 200 (not closed yet)", authFree, w.Code)
	}
	if w := call(attacker, "parley_one-more"); w.Code != 401 {
		t.Fatalf("failure %d: %d, want 401 (it closes the API)", authFree+1, w.Code)
	}
	if got := recs[len(recs)-1].Details["closed_seconds"]; got != "1" {
		t.Errorf("the closing failure's record says closed_seconds %q, want 1", got)
	}
	audited := len(recs)
	for _, remote := range []string{attacker, neighbour} {
		w := call(remote, good)
		var p struct{ Status int }
		json.Unmarshal(w.Body.Bytes(), &p)
		if w.Code != 429 || w.Header().Get("Retry-After") != "1" || w.Header().Get("Content-Type") != "application/problem+json" || p.Status != 429 {
			t.Errorf("%s while closed: %d, Retry-After %q, %s; want a 429 problem, Retry-After 1", remote, w.Code, w.Header().Get("Retry-After"), w.Body)
		}
	}
	if len(recs) != audited {
		t.Errorf("429s were audited: %v", recs[audited:])
	}
	if w := call(other, good); w.Code != 200 {
		t.Errorf("another address: %d, want 200", w.Code)
	}
	// The wait doubles with each failure after it.
	for i, want := range []string{"2", "4", "8"} {
		clk.Advance(time.Duration(1<<i) * time.Second)
		if w := call(attacker, "parley_again"); w.Code != 401 {
			t.Fatalf("after the wait: %d, want 401", w.Code)
		}
		if w := call(attacker, good); w.Code != 429 || w.Header().Get("Retry-After") != want {
			t.Errorf("wait %d: %d, Retry-After %q, want 429, %s", i, w.Code, w.Header().Get("Retry-After"), want)
		}
	}
	clk.Advance(authForget)
	if w := call(attacker, good); w.Code != 200 {
		t.Errorf("after %v: %d, want 200", authForget, w.Code)
	}
	if w := call(attacker, "parley_fresh"); w.Code != 401 {
		t.Errorf("a failure after forgetting: %d, want 401 (counting starts again)", w.Code)
	}
	if w := call(attacker, good); w.Code != 200 {
		t.Errorf("good token after one fresh failure: %d", w.Code)
	}
}

// TestAuthBackoffCapped: the wait never exceeds authMax.
func TestAuthBackoffCapped(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	l := newAuthLimit(clk.Now)
	var d time.Duration
	for range authFree + 100 {
		d = l.failed("192.0.2.1")
	}
	if d != authMax || l.wait("192.0.2.1") != authMax || l.wait("192.0.2.2") != 0 {
		t.Errorf("after 100 failures beyond the free ones: %v, wait %v; want %v", d, l.wait("192.0.2.1"), authMax)
	}
}
