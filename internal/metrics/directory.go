package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// directory is the [auth.ldap] sync's health (internal/directory): a
// failing directory shows as failed syncs and an old last success.
type directory struct {
	syncs *prometheus.CounterVec
	users prometheus.Gauge
	last  prometheus.Gauge
}

func newDirectory() *directory {
	return &directory{
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_directory_syncs_total", Help: "Directory (LDAP) syncs, by outcome (success, failure).",
		}, []string{"outcome"}),
		users: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_directory_users", Help: "Directory users listed by the last successful sync.",
		}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_directory_last_sync_timestamp_seconds", Help: "When the last successful directory sync ended (Unix time).",
		}),
	}
}

func (d *directory) collectors() []prometheus.Collector {
	return []prometheus.Collector{d.syncs, d.users, d.last}
}

// DirectorySync records a directory sync that ended at `at`; users is
// what a successful one listed.
func (m *Metrics) DirectorySync(ok bool, users int, at time.Time) {
	if !ok {
		m.directory.syncs.WithLabelValues("failure").Inc()
		return
	}
	m.directory.syncs.WithLabelValues("success").Inc()
	m.directory.users.Set(float64(users))
	m.directory.last.Set(float64(at.UnixNano()) / 1e9)
}
