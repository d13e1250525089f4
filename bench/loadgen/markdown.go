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

var tables = map[string][]column{
	"login": {
		{head: "logins/s", f: func(r *Result) float64 { return r.LoginsPerSec }, fmt: "%.0f", ratio: true},
		{head: "p50 ms", f: func(r *Result) float64 { return r.LoginP50 }, fmt: "%.2f"},
		{head: "p99 ms", f: func(r *Result) float64 { return r.LoginP99 }, fmt: "%.2f", ratio: true},
		{head: "server CPU µs/login", f: func(r *Result) float64 { return r.ServerCPUPer }, fmt: "%.0f", ratio: true},
		{head: "generator CPU µs/login", f: func(r *Result) float64 { return r.GenCPUPer }, fmt: "%.0f"},
		{head: "failed (all rounds)", f: func(r *Result) float64 { return float64(r.LoginErrors) }, fmt: "%.0f", total: true},
	},
	"chat": {
		{head: "msgs/s", f: func(r *Result) float64 { return r.MsgsPerSec }, fmt: "%.0f", ratio: true},
		{head: "p50 ms", f: func(r *Result) float64 { return r.LatP50 }, fmt: "%.2f"},
		{head: "p99 ms", f: func(r *Result) float64 { return r.LatP99 }, fmt: "%.2f"},
		{head: "p999 ms", f: func(r *Result) float64 { return r.LatP999 }, fmt: "%.2f"},
		{head: "server CPU µs/msg", f: func(r *Result) float64 { return r.ServerCPUPer }, fmt: "%.2f", ratio: true},
		{head: "generator CPU µs/msg", f: func(r *Result) float64 { return r.GenCPUPer }, fmt: "%.2f"},
		{head: "lost+dup (all rounds)", f: func(r *Result) float64 { return float64(r.Lost + r.Duplicated) }, fmt: "%.0f", total: true},
	},
	"latency": {
		{head: "offered/s", f: func(r *Result) float64 { return r.OfferedRate }, fmt: "%.0f"},
		{head: "delivered/s", f: func(r *Result) float64 { return r.MsgsPerSec }, fmt: "%.0f"},
		{head: "p50 ms", f: func(r *Result) float64 { return r.LatP50 }, fmt: "%.2f", ratio: true},
		{head: "p99 ms", f: func(r *Result) float64 { return r.LatP99 }, fmt: "%.2f", ratio: true},
		{head: "p999 ms", f: func(r *Result) float64 { return r.LatP999 }, fmt: "%.2f"},
		{head: "server CPU µs/msg", f: func(r *Result) float64 { return r.ServerCPUPer }, fmt: "%.2f", ratio: true},
		{head: "lost+dup (all rounds)", f: func(r *Result) float64 { return float64(r.Lost + r.Duplicated) }, fmt: "%.0f", total: true},
	},
	"muc": {
		{head: "occupants", f: func(r *Result) float64 { return float64(r.Occupants) }, fmt: "%.0f"},
		{head: "senders", f: func(r *Result) float64 { return float64(r.Senders) }, fmt: "%.0f"},
		{head: "deliveries/s", f: func(r *Result) float64 { return r.DeliveriesPerSec }, fmt: "%.0f", ratio: true},
		{head: "msgs/s", f: func(r *Result) float64 { return r.MsgsPerSec }, fmt: "%.0f"},
		{head: "p50 ms", f: func(r *Result) float64 { return r.LatP50 }, fmt: "%.2f"},
		{head: "p99 ms", f: func(r *Result) float64 { return r.LatP99 }, fmt: "%.2f"},
		{head: "server CPU µs/delivery", f: func(r *Result) float64 { return r.ServerCPUPer }, fmt: "%.2f", ratio: true},
		{head: "server CPU µs/msg", f: func(r *Result) float64 { return r.ServerCPUPerMsg }, fmt: "%.0f"},
		{head: "generator CPU µs/delivery", f: func(r *Result) float64 { return r.GenCPUPer }, fmt: "%.2f"},
		{head: "join s", f: func(r *Result) float64 { return r.JoinSecs }, fmt: "%.1f"},
		{head: "lost+dup (all rounds)", f: func(r *Result) float64 { return float64(r.Lost + r.Duplicated) }, fmt: "%.0f", total: true},
	},
	"idle": {
		{head: "sessions", f: func(r *Result) float64 { return float64(r.Conns) }, fmt: "%.0f"},
		{head: "answering ping", f: func(r *Result) float64 { return float64(r.ConnsAlive) }, fmt: "%.0f"},
		{head: "RSS before MiB", f: func(r *Result) float64 { return mib(r.RSSBefore) }, fmt: "%.1f"},
		{head: "RSS after MiB", f: func(r *Result) float64 { return mib(r.RSSAfter) }, fmt: "%.1f"},
		{head: "bytes/session", f: func(r *Result) float64 { return r.BytesPerConn }, fmt: "%.0f", ratio: true},
		{head: "server CPU µs/login", f: func(r *Result) float64 { return r.ServerCPUPer }, fmt: "%.0f"},
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

// writeTargets states issue 4's targets and whether this run met them.
func writeTargets(b *strings.Builder, mode map[string]map[string]group) {
	med := func(wl, srv string, f func(*Result) float64) (float64, bool) {
		g := mode[wl][srv]
		if len(g) == 0 {
			return 0, false
		}
		return g.median(f), true
	}
	type target struct {
		what   string
		ok     bool
		known  bool
		detail string
	}
	var ts []target
	rate := func(r *Result) float64 { return r.MsgsPerSec }
	cpu := func(r *Result) float64 { return r.ServerCPUPer }
	p99 := func(r *Result) float64 { return r.LatP99 }
	mem := func(r *Result) float64 { return r.BytesPerConn }
	logins := func(r *Result) float64 { return r.LoginsPerSec }
	// lowestPeer is the peer with the lowest positive median of f in wl.
	lowestPeer := func(wl string, f func(*Result) float64) (best float64, name string) {
		for srv := range mode[wl] {
			if srv == Reference {
				continue
			}
			if v, _ := med(wl, srv, f); v > 0 && (name == "" || v < best) {
				best, name = v, srv
			}
		}
		return best, name
	}
	cmp := func(what, wl string, f func(*Result) float64, peer string, factor float64, higherBetter bool) {
		pv, ok1 := med(wl, Reference, f)
		sv, ok2 := med(wl, peer, f)
		t := target{what: what, known: ok1 && ok2 && sv > 0}
		if t.known {
			if higherBetter {
				t.ok = pv >= factor*sv
			} else {
				t.ok = pv <= factor*sv
			}
			t.detail = fmt.Sprintf("parley %.4g, %s %.4g, ratio %.2f", pv, peer, sv, pv/sv)
		}
		ts = append(ts, t)
	}
	cmp("chat msgs/s >= 2x ejabberd", "chat", rate, "ejabberd", 2, true)
	cmp("chat msgs/s >= 4x Prosody", "chat", rate, "prosody", 4, true)
	cmp("server CPU per message <= 1/2 of ejabberd's", "chat", cpu, "ejabberd", 0.5, false)
	cmp("server CPU per message <= 1/4 of Prosody's", "chat", cpu, "prosody", 0.25, false)
	// p99 at equal offered load: half of the best peer
	{
		pv, ok := med("latency", Reference, p99)
		best, bestName := lowestPeer("latency", p99)
		t := target{what: "latency p99 at equal offered load <= 1/2 of the best peer", known: ok && bestName != ""}
		if t.known {
			t.ok = pv <= best/2
			t.detail = fmt.Sprintf("parley %.2f ms, best peer %s %.2f ms", pv, bestName, best)
		}
		ts = append(ts, t)
	}
	{
		pv, ok := med("idle", Reference, mem)
		best, bestName := lowestPeer("idle", mem)
		t := target{what: "idle memory per session <= 1/2 of the best peer and < 16 KiB", known: ok}
		if ok {
			t.ok = pv < 16<<10 && (bestName == "" || pv <= best/2)
			t.detail = fmt.Sprintf("parley %.0f B", pv)
			if bestName != "" {
				t.detail += fmt.Sprintf(", best peer %s %.0f B", bestName, best)
			}
		}
		ts = append(ts, t)
	}
	cmp("login rate (SCRAM) >= ejabberd", "login", logins, "ejabberd", 1, true)
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
		ts = append(ts, t)
	}
	b.WriteString("### Targets (issue 4)\n\n| target | status | measured (medians) |\n|---|---|---|\n")
	for _, t := range ts {
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

// writeArchiveTargets states issue 12's targets for the archive-on
// comparison (bench/compare-archive): parley's archive-on rate against its
// own archive-off rate in the same run, and parley against its peers with
// every archive in PostgreSQL.
func writeArchiveTargets(b *strings.Builder, mode map[string]map[string]group) {
	med := func(wl, srv string, f func(*Result) float64) (float64, bool) {
		g := mode[wl][srv]
		if len(g) == 0 {
			return 0, false
		}
		return g.median(f), true
	}
	rate := func(r *Result) float64 { return r.MsgsPerSec }
	cpu := func(r *Result) float64 { return r.ServerCPUPer }
	p99 := func(r *Result) float64 { return r.LatP99 }
	b.WriteString("### Targets (issue 12: archive on)\n\n| target | status | measured (medians) |\n|---|---|---|\n")
	row := func(what string, known, ok bool, detail string) {
		status := "not measured"
		if known {
			status = "**not met**"
			if ok {
				status = "met"
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", what, status, detail)
	}
	cmp := func(what, wl string, f func(*Result) float64, srv, peer string, factor float64, higherBetter bool) {
		pv, ok1 := med(wl, srv, f)
		sv, ok2 := med(wl, peer, f)
		known := ok1 && ok2 && sv > 0
		ok, detail := false, ""
		if known {
			ok = pv <= factor*sv
			if higherBetter {
				ok = pv >= factor*sv
			}
			detail = fmt.Sprintf("%s %.4g, %s %.4g, ratio %.3g", srv, pv, peer, sv, pv/sv)
		}
		row(what, known, ok, detail)
	}
	cmp("archive on (SQLite): chat msgs/s >= 1/4 of parley's archive-off rate", "chat", rate, "parley", "parley-noarchive", 0.25, true)
	cmp("archive on (PostgreSQL): chat msgs/s >= 1/4 of parley's archive-off rate", "chat", rate, "parley_pg", "parley-noarchive", 0.25, true)
	cmp("PostgreSQL everywhere: chat msgs/s >= 15x ejabberd's", "chat", rate, "parley_pg", "ejabberd_pg", 15, true)
	cmp("PostgreSQL everywhere: chat msgs/s >= 50x Prosody's", "chat", rate, "parley_pg", "prosody_pg", 50, true)
	cmp("PostgreSQL everywhere: server CPU per message <= 1/20 of ejabberd's", "chat", cpu, "parley_pg", "ejabberd_pg", 0.05, false)
	{
		pv, ok := med("latency", "parley_pg", p99)
		best, bestName := 0.0, ""
		for _, peer := range []string{"ejabberd_pg", "prosody_pg"} {
			if v, ok := med("latency", peer, p99); ok && v > 0 && (bestName == "" || v < best) {
				best, bestName = v, peer
			}
		}
		detail := ""
		if ok && bestName != "" {
			detail = fmt.Sprintf("parley_pg %.2f ms, best peer %s %.2f ms", pv, bestName, best)
		}
		row("PostgreSQL everywhere: latency p99 at equal offered load <= 1/2 of the best peer's", ok && bestName != "", pv <= best/2, detail)
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
		row("archive on: nothing lost", runs > 0, lost == 0, fmt.Sprintf("parley and parley_pg chat and latency runs: %d, messages lost or duplicated: %d", runs, lost))
	}
	b.WriteString("\n")
}
