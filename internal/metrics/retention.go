package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// retention is the retention job's progress (internal/retention): rows
// removed as each batch commits, and the runs.
type retention struct {
	removed *prometheus.CounterVec
	runs    *prometheus.CounterVec
	last    prometheus.Gauge
}

func newRetention() *retention {
	return &retention{
		removed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_retention_removed_total",
			Help: "Rows removed by retention policies, by kind (archive, offline, uploads), counted per committed batch.",
		}, []string{"kind"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_retention_runs_total", Help: "Retention runs, by outcome (success, failure).",
		}, []string{"outcome"}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parley_retention_last_run_timestamp_seconds", Help: "When the last retention run ended (Unix time).",
		}),
	}
}

func (r *retention) collectors() []prometheus.Collector {
	return []prometheus.Collector{r.removed, r.runs, r.last}
}

// RetentionDeleted adds n rows of kind removed by one batch.
func (m *Metrics) RetentionDeleted(kind string, n int) {
	m.retention.removed.WithLabelValues(kind).Add(float64(n))
}

// RetentionRun records a run that ended at `at`.
func (m *Metrics) RetentionRun(ok bool, at time.Time) {
	outcome := "success"
	if !ok {
		outcome = "failure"
	}
	m.retention.runs.WithLabelValues(outcome).Inc()
	m.retention.last.Set(float64(at.UnixNano()) / 1e9)
}
