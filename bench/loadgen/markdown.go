package loadgen

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Meta describes a comparison run for its report.
type Meta struct {
	Title    string   `json:"title"`
	Machine  string   `json:"machine"`
	Versions []string `json:"versions"`
	Command  string   `json:"command"`
	Settings []string `json:"settings"` // how each server was configured
	Notes    []string `json:"notes"`
	// Profiles maps a heading to the text of `go tool pprof -top` output.
	Profiles []Profile `json:"profiles"`
}

// Profile is a named excerpt of a profile.
type Profile struct {
	Name string `json:"name"`
	Top  string `json:"top"`
}

// Reference is the server the others are compared with.
const Reference = "parley"

// group is every round of one workload against one server in one mode.
type group []Result

func (g group) median(f func(*Result) float64) float64 {
	if len(g) == 0 {
		return 0
	}
	v := make([]float64, len(g))
	for i := range g {
		v[i] = f(&g[i])
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func (g group) sum(f func(*Result) float64) float64 {
	var s float64
	for i := range g {
		s += f(&g[i])
	}
	return s
}

// column is one figure of a workload's table.
type column struct {
	head  string
	f     func(*Result) float64
	fmt   string
	ratio bool // also show parley/peer
	total bool // sum over rounds instead of the median
}

// Figures of the tables and the targets.
func msgsPerSec(r *Result) float64   { return r.MsgsPerSec }
func serverCPUPer(r *Result) float64 { return r.ServerCPUPer }
func genCPUPer(r *Result) float64    { return r.GenCPUPer }
func latP50(r *Result) float64       { return r.LatP50 }
func latP99(r *Result) float64       { return r.LatP99 }
func latP999(r *Result) float64      { return r.LatP999 }
func bytesPerConn(r *Result) float64 { return r.BytesPerConn }
func loginsPerSec(r *Result) float64 { return r.LoginsPerSec }
func lostOrDup(r *Result) float64    { return float64(r.Lost + r.Duplicated) }

var tables = map[string][]column{
	"login": {
		{head: "logins/s", f: loginsPerSec, fmt: "%.0f", ratio: true},
		{head: "p50 ms", f: func(r *Result) float64 { return r.LoginP50 }, fmt: "%.2f"},
		{head: "p99 ms", f: func(r *Result) float64 { return r.LoginP99 }, fmt: "%.2f", ratio: true},
		{head: "server CPU µs/login", f: serverCPUPer, fmt: "%.0f", ratio: true},
		{head: "generator CPU µs/login", f: genCPUPer, fmt: "%.0f"},
		{head: "failed (all rounds)", f: func(r *Result) float64 { return float64(r.LoginErrors) }, fmt: "%.0f", total: true},
	},
	"chat": {
		{head: "msgs/s", f: msgsPerSec, fmt: "%.0f", ratio: true},
		{head: "p50 ms", f: latP50, fmt: "%.2f"},
		{head: "p99 ms", f: latP99, fmt: "%.2f"},
		{head: "p999 ms", f: latP999, fmt: "%.2f"},
		{head: "server CPU µs/msg", f: serverCPUPer, fmt: "%.2f", ratio: true},
		{head: "generator CPU µs/msg", f: genCPUPer, fmt: "%.2f"},
		{head: "lost+dup (all rounds)", f: lostOrDup, fmt: "%.0f", total: true},
	},
	"latency": {
		{head: "offered/s", f: func(r *Result) float64 { return r.OfferedRate }, fmt: "%.0f"},
		{head: "delivered/s", f: msgsPerSec, fmt: "%.0f"},
		{head: "p50 ms", f: latP50, fmt: "%.2f", ratio: true},
		{head: "p99 ms", f: latP99, fmt: "%.2f", ratio: true},
		{head: "p999 ms", f: latP999, fmt: "%.2f"},
		{head: "server CPU µs/msg", f: serverCPUPer, fmt: "%.2f", ratio: true},
		{head: "lost+dup (all rounds)", f: lostOrDup, fmt: "%.0f", total: true},
	},
	"muc": {
		{head: "occupants", f: func(r *Result) float64 { return float64(r.Occupants) }, fmt: "%.0f"},
		{head: "senders", f: func(r *Result) float64 { return float64(r.Senders) }, fmt: "%.0f"},
		{head: "deliveries/s", f: func(r *Result) float64 { return r.DeliveriesPerSec }, fmt: "%.0f", ratio: true},
		{head: "msgs/s", f: msgsPerSec, fmt: "%.0f"},
		{head: "p50 ms", f: latP50, fmt: "%.2f"},
		{head: "p99 ms", f: latP99, fmt: "%.2f"},
		{head: "server CPU µs/delivery", f: serverCPUPer, fmt: "%.2f", ratio: true},
		{head: "server CPU µs/msg", f: func(r *Result) float64 { return r.ServerCPUPerMsg }, fmt: "%.0f"},
		{head: "generator CPU µs/delivery", f: genCPUPer, fmt: "%.2f"},
		{head: "join s", f: func(r *Result) float64 { return r.JoinSecs }, fmt: "%.1f"},
		{head: "lost+dup (all rounds)", f: lostOrDup, fmt: "%.0f", total: true},
	},
	"idle": {
		{head: "sessions", f: func(r *Result) float64 { return float64(r.Conns) }, fmt: "%.0f"},
		{head: "answering ping", f: func(r *Result) float64 { return float64(r.ConnsAlive) }, fmt: "%.0f"},
		{head: "RSS before MiB", f: func(r *Result) float64 { return mib(r.RSSBefore) }, fmt: "%.1f"},
		{head: "RSS after MiB", f: func(r *Result) float64 { return mib(r.RSSAfter) }, fmt: "%.1f"},
		{head: "bytes/session", f: bytesPerConn, fmt: "%.0f", ratio: true},
		{head: "server CPU µs/login", f: serverCPUPer, fmt: "%.0f"},
	},
}

// bullets writes a bold title and items as a list; nothing without items.
func bullets(b *strings.Builder, title string, items []string) {
	if len(items) == 0 {
		return
	}
	b.WriteString(title + "\n")
	for _, it := range items {
		fmt.Fprintf(b, "- %s\n", it)
	}
	b.WriteString("\n")
}

// WriteMarkdown writes the side-by-side report: per mode (TLS, plaintext)
// one table per workload with the median of the rounds, and the targets of
// issue 4 with their status.
func WriteMarkdown(w io.Writer, results []Result, m Meta) error {
	var b strings.Builder
	title := m.Title
	if title == "" {
		title = "Benchmarks"
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	if m.Machine != "" {
		fmt.Fprintf(&b, "**Machine:** %s\n\n", m.Machine)
	}
	bullets(&b, "**Versions:**", m.Versions)
	if m.Command != "" {
		fmt.Fprintf(&b, "**Command:**\n\n```sh\n%s\n```\n\n", m.Command)
	}
	bullets(&b, "**Server settings:**", m.Settings)
	bullets(&b, "**How to read this:**", m.Notes)
	by := map[bool]map[string]map[string]group{}
	var servers []string
	for _, r := range results {
		if by[r.TLS] == nil {
			by[r.TLS] = map[string]map[string]group{}
		}
		if by[r.TLS][r.Workload] == nil {
			by[r.TLS][r.Workload] = map[string]group{}
		}
		by[r.TLS][r.Workload][r.Server] = append(by[r.TLS][r.Workload][r.Server], r)
		if !slices.Contains(servers, r.Server) {
			servers = append(servers, r.Server)
		}
	}
	// parley first, peers in the order they were run
	slices.SortStableFunc(servers, func(a, b string) int {
		switch {
		case a == Reference && b != Reference:
			return -1
		case b == Reference && a != Reference:
			return 1
		}
		return 0
	})
	for _, tls := range []bool{true, false} {
		mode := by[tls]
		if mode == nil {
			continue
		}
		if tls {
			b.WriteString("## STARTTLS (realistic)\n\n")
		} else {
			b.WriteString("## Plaintext on loopback (server cost without TLS)\n\n")
		}
		if mode["chat"]["ejabberd"] != nil || mode["chat"]["prosody"] != nil || mode["idle"] != nil {
			writeTargets(&b, mode)
		}
		if mode["chat"]["parley_pg"] != nil || mode["chat"]["parley-noarchive"] != nil {
			writeArchiveTargets(&b, mode)
		}
		for _, wl := range Workloads {
			gs := mode[wl.Name]
			if gs == nil {
				continue
			}
			writeWorkload(&b, wl, gs, servers)
		}
	}
	var failures []string
	for _, r := range results {
		if r.Error != "" {
			failures = append(failures, fmt.Sprintf("%s %s (tls=%v, started %s): %s", r.Server, r.Workload, r.TLS, r.Started.Format("15:04:05"), r.Error))
		}
	}
	if len(failures) > 0 {
		b.WriteString("## Runs that ended early (their partial figures are in the medians above)\n\n")
		for _, f := range failures {
			fmt.Fprintf(&b, "- %s\n", f)
		}
		b.WriteString("\n")
	}
	for _, p := range m.Profiles {
		fmt.Fprintf(&b, "## Profile: %s\n\n```\n%s\n```\n\n", p.Name, strings.TrimRight(p.Top, "\n"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeWorkload(b *strings.Builder, wl Workload, gs map[string]group, servers []string) {
	cols := tables[wl.Name]
	fmt.Fprintf(b, "### %s\n\n%s.\n\n", wl.Name, wl.Description)
	if cols == nil {
		for _, s := range servers {
			if g := gs[s]; len(g) > 0 {
				fmt.Fprintf(b, "- %s: %s\n", s, g[0].Note)
			}
		}
		b.WriteString("\n")
		return
	}
	b.WriteString("| server | rounds |")
	for _, c := range cols {
		fmt.Fprintf(b, " %s |", c.head)
	}
	b.WriteString("\n|---|---|")
	for range cols {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	ref := gs[Reference]
	for _, s := range servers {
		g := gs[s]
		if len(g) == 0 {
			continue
		}
		fmt.Fprintf(b, "| %s | %d |", s, len(g))
		for _, c := range cols {
			v := g.median(c.f)
			if c.total {
				v = g.sum(c.f)
			}
			fmt.Fprintf(b, " "+c.fmt+" |", v)
		}
		b.WriteString("\n")
	}
	var ratios []string
	for _, s := range servers {
		g := gs[s]
		if s == Reference || len(g) == 0 || len(ref) == 0 {
			continue
		}
		var parts []string
		for _, c := range cols {
			if !c.ratio {
				continue
			}
			pv, sv := ref.median(c.f), g.median(c.f)
			if sv == 0 {
				continue
			}
			parts = append(parts, fmt.Sprintf("%s %.2f", c.head, pv/sv))
		}
		if len(parts) > 0 {
			ratios = append(ratios, fmt.Sprintf("parley/%s: %s", s, strings.Join(parts, ", ")))
		}
	}
	b.WriteString("\n")
	for _, r := range ratios {
		fmt.Fprintf(b, "- %s\n", r)
	}
	b.WriteString("\n")
}

// targets is a report's table of targets: for each, whether the run
// measured it, whether it was met, and what was measured (medians).
type targets struct {
	mode map[string]map[string]group
	rows []target
}

type target struct {
	what   string
	known  bool // measured
	ok     bool // met
	detail string
}

// med is the median of f over the rounds of workload wl against srv;
// false when there are none.
func (ts *targets) med(wl, srv string, f func(*Result) float64) (float64, bool) {
	g := ts.mode[wl][srv]
	if len(g) == 0 {
		return 0, false
	}
	return g.median(f), true
}

// add states a target.
func (ts *targets) add(what string, known, ok bool, detail string) {
	ts.rows = append(ts.rows, target{what: what, known: known, ok: ok, detail: detail})
}

// compare states that srv's median of f in wl is at least (higherBetter)
// or at most factor times peer's; the ratio is written with the format
// verb ratio.
func (ts *targets) compare(what, wl string, f func(*Result) float64, srv, peer string, factor float64, higherBetter bool, ratio string) {
	pv, ok1 := ts.med(wl, srv, f)
	sv, ok2 := ts.med(wl, peer, f)
	t := target{what: what, known: ok1 && ok2 && sv > 0}
	if t.known {
		t.ok = pv <= factor*sv
		if higherBetter {
			t.ok = pv >= factor*sv
		}
		t.detail = fmt.Sprintf("%s %.4g, %s %.4g, ratio "+ratio, srv, pv, peer, sv, pv/sv)
	}
	ts.rows = append(ts.rows, t)
}

// lowest is the server of peers with the lowest positive median of f in
// wl, and that median; "" when none has one.
func (ts *targets) lowest(wl string, f func(*Result) float64, peers []string) (best float64, name string) {
	for _, srv := range peers {
		if v, _ := ts.med(wl, srv, f); v > 0 && (name == "" || v < best) {
			best, name = v, srv
		}
	}
	return best, name
}

// write writes the table under the heading title.
func (ts *targets) write(b *strings.Builder, title string) {
	b.WriteString("### " + title + "\n\n| target | status | measured (medians) |\n|---|---|---|\n")
	for _, t := range ts.rows {
		status := "not measured"
		if t.known {
			status = "**not met**"
			if t.ok {
				status = "met"
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", t.what, status, t.detail)
	}
	b.WriteString("\n")
}

// writeTargets states issue 4's targets and whether this run met them.
func writeTargets(b *strings.Builder, mode map[string]map[string]group) {
	ts := &targets{mode: mode}
	// peers are the servers other than parley that ran wl.
	peers := func(wl string) []string {
		var out []string
		for srv := range mode[wl] {
			if srv != Reference {
				out = append(out, srv)
			}
		}
		slices.Sort(out)
		return out
	}
	cmp := func(what, wl string, f func(*Result) float64, peer string, factor float64, higherBetter bool) {
		ts.compare(what, wl, f, Reference, peer, factor, higherBetter, "%.2f")
	}
	cmp("chat msgs/s >= 2x ejabberd", "chat", msgsPerSec, "ejabberd", 2, true)
	cmp("chat msgs/s >= 4x Prosody", "chat", msgsPerSec, "prosody", 4, true)
	cmp("server CPU per message <= 1/2 of ejabberd's", "chat", serverCPUPer, "ejabberd", 0.5, false)
	cmp("server CPU per message <= 1/4 of Prosody's", "chat", serverCPUPer, "prosody", 0.25, false)
	// p99 at equal offered load: half of the best peer
	{
		pv, ok := ts.med("latency", Reference, latP99)
		best, bestName := ts.lowest("latency", latP99, peers("latency"))
		detail := ""
		if ok && bestName != "" {
			detail = fmt.Sprintf("parley %.2f ms, best peer %s %.2f ms", pv, bestName, best)
		}
		ts.add("latency p99 at equal offered load <= 1/2 of the best peer", ok && bestName != "", pv <= best/2, detail)
	}
	{
		pv, ok := ts.med("idle", Reference, bytesPerConn)
		best, bestName := ts.lowest("idle", bytesPerConn, peers("idle"))
		detail := ""
		if ok {
			detail = fmt.Sprintf("parley %.0f B", pv)
			if bestName != "" {
				detail += fmt.Sprintf(", best peer %s %.0f B", bestName, best)
			}
		}
		ts.add("idle memory per session <= 1/2 of the best peer and < 16 KiB", ok, pv < 16<<10 && (bestName == "" || pv <= best/2), detail)
	}
	cmp("login rate (SCRAM) >= ejabberd", "login", loginsPerSec, "ejabberd", 1, true)
	{
		g := mode["idle"][Reference]
		t := target{what: "10,000 concurrent sessions held, nothing lost", known: len(g) > 0}
		if t.known {
			t.ok = true
			minAlive := -1
			for _, r := range g {
				if r.Conns < 10000 || r.ConnsAlive < r.Conns {
					t.ok = false
				}
				if minAlive < 0 || r.ConnsAlive < minAlive {
					minAlive = r.ConnsAlive
				}
			}
			var lost uint64
			for _, wl := range []string{"chat", "latency"} {
				for _, r := range mode[wl][Reference] {
					lost += r.Lost + r.Duplicated
				}
			}
			t.ok = t.ok && lost == 0
			t.detail = fmt.Sprintf("fewest sessions answering in a round: %d of %d; chat messages lost or duplicated: %d", minAlive, g[0].Conns, lost)
		}
		ts.rows = append(ts.rows, t)
	}
	ts.write(b, "Targets (issue 4)")
}

// writeArchiveTargets states issue 12's targets for the archive-on
// comparison (bench/compare-archive): parley's archive-on rate against its
// own archive-off rate in the same run, and parley against its peers with
// every archive in PostgreSQL.
func writeArchiveTargets(b *strings.Builder, mode map[string]map[string]group) {
	ts := &targets{mode: mode}
	ts.compare("archive on (SQLite): chat msgs/s >= 1/4 of parley's archive-off rate", "chat", msgsPerSec, "parley", "parley-noarchive", 0.25, true, "%.3g")
	ts.compare("archive on (PostgreSQL): chat msgs/s >= 1/4 of parley's archive-off rate", "chat", msgsPerSec, "parley_pg", "parley-noarchive", 0.25, true, "%.3g")
	ts.compare("PostgreSQL everywhere: chat msgs/s >= 15x ejabberd's", "chat", msgsPerSec, "parley_pg", "ejabberd_pg", 15, true, "%.3g")
	ts.compare("PostgreSQL everywhere: chat msgs/s >= 50x Prosody's", "chat", msgsPerSec, "parley_pg", "prosody_pg", 50, true, "%.3g")
	ts.compare("PostgreSQL everywhere: server CPU per message <= 1/20 of ejabberd's", "chat", serverCPUPer, "parley_pg", "ejabberd_pg", 0.05, false, "%.3g")
	{
		pv, ok := ts.med("latency", "parley_pg", latP99)
		best, bestName := ts.lowest("latency", latP99, []string{"ejabberd_pg", "prosody_pg"})
		detail := ""
		if ok && bestName != "" {
			detail = fmt.Sprintf("parley_pg %.2f ms, best peer %s %.2f ms", pv, bestName, best)
		}
		ts.add("PostgreSQL everywhere: latency p99 at equal offered load <= 1/2 of the best peer's", ok && bestName != "", pv <= best/2, detail)
	}
	{
		var lost uint64
		runs := 0
		for _, srv := range []string{"parley", "parley_pg"} {
			for _, wl := range []string{"chat", "latency"} {
				for _, r := range mode[wl][srv] {
					lost += r.Lost + r.Duplicated
					runs++
				}
			}
		}
		ts.add("archive on: nothing lost", runs > 0, lost == 0, fmt.Sprintf("parley and parley_pg chat and latency runs: %d, messages lost or duplicated: %d", runs, lost))
	}
	ts.write(b, "Targets (issue 12: archive on)")
}
