package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Label values the server uses. Every distinct label value is a new time
// series, so labels come from these small fixed sets (and SASL mechanism
// names and RFC 6120 conditions), never from JIDs or error text.
const (
	TransportTCP       = "tcp"
	TransportTLS       = "tls"
	TransportWebSocket = "websocket"

	KindMessage  = "message"
	KindPresence = "presence"
	KindIQ       = "iq"
)

// Metrics are the collectors of one server. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg         *prometheus.Registry
	sessions    *prometheus.GaugeVec
	stanzasIn   *prometheus.CounterVec
	stanzasOut  *prometheus.CounterVec
	authFails   *prometheus.CounterVec
	routingErrs *prometheus.CounterVec
	storeTime   *prometheus.HistogramVec
	writeFails  prometheus.Counter
	s2sLinks    *prometheus.CounterVec
	audit       *prometheus.GaugeVec // audit.go
	retention   *retention           // retention.go
	directory   *directory           // directory.go

	// The per-kind stanza counters, looked up once: StanzaIn and StanzaOut
	// run for every stanza, and a label lookup hashes the label each time.
	in, out map[string]prometheus.Counter
}

// New registers the collectors, with Go runtime and process metrics.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		sessions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "parley_sessions", Help: "Open client connections by transport.",
		}, []string{"transport"}),
		stanzasIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_stanzas_in_total", Help: "Stanzas received from clients, by kind.",
		}, []string{"kind"}),
		stanzasOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_stanzas_out_total", Help: "Stanzas queued to clients, by kind.",
		}, []string{"kind"}),
		authFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_auth_failures_total", Help: "Failed SASL authentications, by mechanism.",
		}, []string{"mechanism"}),
		routingErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_routing_errors_total", Help: "Stanzas bounced with an error, by condition.",
		}, []string{"condition"}),
		storeTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parley_store_seconds",
			Help:    "Store operation latency, including waiting for the single writer.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9), // 100µs .. 6.5s
		}, []string{"op"}),
		writeFails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parley_durable_write_failures_total",
			Help: "Durable writes (archive, offline storage) that failed (docs/design/06).",
		}),
		s2sLinks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parley_s2s_links_total",
			Help: "Authenticated server-to-server links, by direction (in, out) and authentication (EXTERNAL, dialback).",
		}, []string{"direction", "auth"}),
	}
	m.audit = newAuditBacklog()
	m.retention = newRetention()
	m.reg.MustRegister(m.retention.collectors()...)
	m.directory = newDirectory()
	m.reg.MustRegister(m.directory.collectors()...)
	m.reg.MustRegister(m.sessions, m.stanzasIn, m.stanzasOut, m.authFails, m.routingErrs, m.storeTime, m.writeFails, m.s2sLinks, m.audit,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Pre-create the common series so dashboards see zeros, not gaps.
	m.in, m.out = make(map[string]prometheus.Counter), make(map[string]prometheus.Counter)
	for _, k := range []string{KindMessage, KindPresence, KindIQ} {
		m.in[k] = m.stanzasIn.WithLabelValues(k)
		m.out[k] = m.stanzasOut.WithLabelValues(k)
	}
	for _, t := range []string{TransportTCP, TransportTLS, TransportWebSocket} {
		m.sessions.WithLabelValues(t)
	}
	return m
}

// Session adds delta to the open sessions of a transport.
func (m *Metrics) Session(transport string, delta int) {
	m.sessions.WithLabelValues(transport).Add(float64(delta))
}

// StanzaIn counts a stanza received.
func (m *Metrics) StanzaIn(kind string) { counter(m.in, m.stanzasIn, kind).Inc() }

// StanzaOut counts a stanza sent.
func (m *Metrics) StanzaOut(kind string) { counter(m.out, m.stanzasOut, kind).Inc() }

// counter returns the cached counter of a kind, or looks up any other.
func counter(cached map[string]prometheus.Counter, vec *prometheus.CounterVec, kind string) prometheus.Counter {
	if c, ok := cached[kind]; ok {
		return c
	}
	return vec.WithLabelValues(kind)
}

// AuthFailure counts a failed authentication.
func (m *Metrics) AuthFailure(mechanism string) { m.authFails.WithLabelValues(mechanism).Inc() }

// RoutingError counts a bounced stanza.
func (m *Metrics) RoutingError(condition string) { m.routingErrs.WithLabelValues(condition).Inc() }

// S2SLink counts an authenticated server-to-server link.
func (m *Metrics) S2SLink(direction, auth string) { m.s2sLinks.WithLabelValues(direction, auth).Inc() }

// WriteFailure counts a durable write that failed.
func (m *Metrics) WriteFailure() { m.writeFails.Inc() }

// StoreOp records how long a store operation took.
func (m *Metrics) StoreOp(op string, d time.Duration) {
	m.storeTime.WithLabelValues(op).Observe(d.Seconds())
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
