package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestScrapeHasEveryCollector(t *testing.T) {
	m := New()
	m.Session("tls", 1)
	m.StanzaIn("message")
	m.StanzaOut("presence")
	m.AuthFailure("SCRAM-SHA-256")
	m.RoutingError("service-unavailable")
	m.StoreOp("StoreOffline", 3*time.Millisecond)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for i, want := range []string{
		`parley_sessions{transport="tls"} 1`,
		`parley_stanzas_in_total{kind="message"} 1`,
		`parley_stanzas_out_total{kind="presence"} 1`,
		`parley_auth_failures_total{mechanism="SCRAM-SHA-256"} 1`,
		`parley_routing_errors_total{condition="service-unavailable"} 1`,
		`parley_store_seconds_count{op="StoreOffline"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("%d: scrape lacks %q", i, want)
		}
	}
}
