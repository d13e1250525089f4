package metrics

import "github.com/prometheus/client_golang/prometheus"

// newAuditBacklog is the gauge of audit records each SIEM sink has yet to
// confirm (internal/audit). Sink names come from the configuration, a
// small fixed set.
func newAuditBacklog() *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "parley_audit_sink_backlog",
		Help: "Audit records not yet confirmed by a forwarding sink, by sink.",
	}, []string{"sink"})
}

// AuditBacklog sets how many audit records a sink has yet to confirm.
func (m *Metrics) AuditBacklog(sink string, n int64) {
	m.audit.WithLabelValues(sink).Set(float64(n))
}
