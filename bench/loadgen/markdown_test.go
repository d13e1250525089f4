package loadgen

import (
	"strings"
	"testing"
)

// TestArchiveTargets: issue 12's rows say met or not met from the medians
// of the archive comparison's server labels, and "not measured" where a
// label did not run.
func TestArchiveTargets(t *testing.T) {
	chat := func(srv string, rate, cpu float64, lost uint64) Result {
		return Result{Server: srv, Workload: "chat", TLS: true, MsgsPerSec: rate, ServerCPUPer: cpu, Lost: lost}
	}
	results := []Result{
		chat("parley", 90000, 10, 0), chat("parley", 100000, 10, 0), chat("parley", 110000, 10, 0),
		chat("parley_pg", 20000, 20, 0),
		chat("parley-noarchive", 300000, 5, 0),
		chat("ejabberd_pg", 1000, 300, 0),
		{Server: "parley_pg", Workload: "latency", TLS: true, LatP99: 3},
		{Server: "ejabberd_pg", Workload: "latency", TLS: true, LatP99: 10},
		{Server: "prosody_pg", Workload: "latency", TLS: true, LatP99: 5},
	}
	var b strings.Builder
	if err := WriteMarkdown(&b, results, Meta{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| archive on (SQLite): chat msgs/s >= 1/4 of parley's archive-off rate | met | parley 1e+05, parley-noarchive 3e+05, ratio 0.333 |",
		"| archive on (PostgreSQL): chat msgs/s >= 1/4 of parley's archive-off rate | **not met** | parley_pg 2e+04, parley-noarchive 3e+05, ratio 0.0667 |",
		"| PostgreSQL everywhere: chat msgs/s >= 15x ejabberd's | met |",
		"| PostgreSQL everywhere: chat msgs/s >= 50x Prosody's | not measured |  |",
		"| PostgreSQL everywhere: server CPU per message <= 1/20 of ejabberd's | **not met** |",
		"| PostgreSQL everywhere: latency p99 at equal offered load <= 1/2 of the best peer's | **not met** | parley_pg 3.00 ms, best peer prosody_pg 5.00 ms |",
		"| archive on: nothing lost | met |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Targets (issue 4)") {
		t.Errorf("issue 4's targets without its peers:\n%s", out)
	}
}
