package loadgen

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteTable prints a result for people: one line per figure that applies.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, v ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, v...)...) }
	row("workload", "%s", r.Workload)
	if r.Server != "" {
		row("server", "%s", r.Server)
	}
	row("tls / sasl", "%v / %s", r.TLS, r.Mechanism)
	if !r.Available {
		row("result", "%s", r.Note)
		return tw.Flush()
	}
	row("measured", "%.2f s", r.Elapsed)
	switch r.Workload {
	case "login":
		row("logins", "%d (%d failed)", r.Logins, r.LoginErrors)
		row("logins/s", "%.0f", r.LoginsPerSec)
		row("login p50 / p99", "%.2f / %.2f ms", r.LoginP50, r.LoginP99)
	case "chat", "latency":
		row("pairs / window", "%d / %d", r.Pairs, r.Window)
		if r.OfferedRate > 0 {
			row("offered", "%.0f msgs/s", r.OfferedRate)
		}
		row("sent / delivered", "%d / %d", r.Sent, r.Delivered)
		row("lost / duplicated / late", "%d / %d / %d", r.Lost, r.Duplicated, r.OutOfOrder)
		row("delivered msgs/s", "%.0f", r.MsgsPerSec)
		row("latency p50 / p99 / p999 / max", "%.2f / %.2f / %.2f / %.2f ms", r.LatP50, r.LatP99, r.LatP999, r.LatMax)
	case "muc":
		row("occupants / senders / window", "%d / %d / %d", r.Occupants, r.Senders, r.Window)
		row("all joined in", "%.2f s", r.JoinSecs)
		row("messages sent / deliveries", "%d / %d", r.Sent, r.Delivered)
		row("sent by one sender (fewest / most)", "%d / %d", r.SenderFewest, r.SenderMost)
		row("lost / duplicated / late", "%d / %d / %d", r.Lost, r.Duplicated, r.OutOfOrder)
		row("msgs/s / deliveries/s", "%.0f / %.0f", r.MsgsPerSec, r.DeliveriesPerSec)
		row("latency p50 / p99 / p999 / max", "%.2f / %.2f / %.2f / %.2f ms", r.LatP50, r.LatP99, r.LatP999, r.LatMax)
		if r.ServerPID > 0 {
			row("server CPU per message", "%.1f µs", r.ServerCPUPerMsg)
		}
	case "idle":
		row("sessions (answering ping)", "%d (%d)", r.Conns, r.ConnsAlive)
		row("server RSS before / after", "%.1f / %.1f MiB", mib(r.RSSBefore), mib(r.RSSAfter))
		row("server bytes per session", "%.0f", r.BytesPerConn)
	}
	if r.ServerPID > 0 {
		row("server CPU", "%.2f s (%.1f µs/op)", r.ServerCPU, r.ServerCPUPer)
		row("server RSS at end", "%.1f MiB", mib(r.ServerRSS))
	}
	row("generator CPU", "%.2f s (%.1f µs/op)", r.GenCPU, r.GenCPUPer)
	if r.CPUProfile != "" {
		row("profiles", "%s %s", r.CPUProfile, r.HeapProfile)
	}
	if r.ProfileErrors != "" {
		row("profile error", "%s", r.ProfileErrors)
	}
	if r.Error != "" {
		row("ERROR (partial result)", "%s", r.Error)
	}
	return tw.Flush()
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
