package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzRecord: whatever a client puts into a record's fields (usernames,
// resource names, addresses), the normalised record is bounded, storable
// (valid UTF-8, no NUL), normalising again changes nothing (so the hash
// the log computed is the hash Verify recomputes), and its JSON export
// decodes to the same fields.
func FuzzRecord(f *testing.F) {
	f.Add("alice@example.com", "login", "bob", "192.0.2.1", "k", "v")
	f.Add("a\x00b\xff", "x\"y", strings.Repeat("é", 600), "::1", "\xfe", "\u2028")
	f.Fuzz(func(t *testing.T, actor, action, target, ip, k, v string) {
		r := Record{Seq: 7, Time: time.Unix(1, 2), Actor: actor, Action: action, Target: target, IP: ip,
			Details: map[string]string{k: v}, Prev: make([]byte, 32)}
		n := r.normalise()
		for _, s := range append([]string{n.Actor, n.Action, n.Target, n.IP}, detailStrings(n.Details)...) {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || len(s) > maxField {
				t.Fatalf("normalised field %q is not storable", s)
			}
		}
		if string(n.normalise().Canonical()) != string(n.Canonical()) {
			t.Fatalf("normalise is not idempotent for %+v", r)
		}
		n.Hash = n.ComputeHash()
		var back struct {
			Actor, Action, Target, IP string
			Details                   map[string]string
			Hash                      string
		}
		if err := json.Unmarshal(formatJSON(n), &back); err != nil {
			t.Fatalf("formatJSON: %v", err)
		}
		if back.Actor != n.Actor || back.Action != n.Action || back.Target != n.Target || back.IP != n.IP || len(back.Hash) != 64 {
			t.Fatalf("exported %+v, normalised %+v", back, n)
		}
		for dk, dv := range n.Details {
			if back.Details[dk] != dv {
				t.Fatalf("details %q: exported %q, normalised %q", dk, back.Details[dk], dv)
			}
		}
	})
}

func detailStrings(d map[string]string) []string {
	var out []string
	for k, v := range d {
		out = append(out, k, v)
	}
	return out
}
