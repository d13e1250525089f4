package rsm_test

import (
	"testing"

	"parley/internal/rsm"
	"parley/internal/xmlstream"
)

// FuzzParse feeds arbitrary XML to Parse: it must not panic, and what it
// accepts must be within its limits and a valid position.
func FuzzParse(f *testing.F) {
	f.Add([]byte("<set xmlns='" + rsm.NS + "'><max>10</max><after>a</after></set>"))
	lim := rsm.Limits{Max: 50, ID: 64}
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlstream.Parse(b, xmlstream.Limits{MaxStanza: 1 << 16, MaxDepth: 8})
		if err != nil {
			return
		}
		r, err := rsm.Parse(el, lim)
		if err != nil {
			return
		}
		if r.Max > lim.Max || r.Max < -1 || r.Index < -1 || len(r.After) > lim.ID || len(r.Before) > lim.ID {
			t.Fatalf("out of limits: %+v", r)
		}
		starts := 0
		for _, set := range []bool{r.Index >= 0, r.After != "", r.Before != "" || r.Last} {
			if set {
				starts++
			}
		}
		if starts > 1 || (r.Last && r.Before != "") {
			t.Fatalf("two starting points: %+v", r)
		}
		all := []string{"a", "b", "c"}
		page, rep, err := rsm.Page(all, r, 2, func(s string) string { return s })
		if err == nil && (len(page) > max(r.Limit(2), 0) || rep.Count != len(all)) {
			t.Fatalf("page %q %+v for %+v", page, rep, r)
		}
	})
}
