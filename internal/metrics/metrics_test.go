package metrics

import (
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

func TestScrapeHasEveryCollector(t *testing.T) {
	m := New()
	m.Session(TransportTLS, 1)
	m.Session(TransportTCP, 2)
	m.Session(TransportTCP, -1)
	m.StanzaIn(KindMessage)
	m.StanzaOut(KindPresence)
	m.StanzaOut(KindPresence)
	m.AuthFailure("SCRAM-SHA-256")
	m.RoutingError("service-unavailable")
	m.StoreOp("StoreOffline", 3*time.Millisecond)
	m.WriteFailure()
	m.S2SLink("in", "dialback")

	body := scrape(t, m)
	for i, want := range []string{
		`parley_sessions{transport="tls"} 1`,
		`parley_sessions{transport="tcp"} 1`,
		// Pre-created series read 0 before anything happens.
		`parley_sessions{transport="websocket"} 0`,
		`parley_stanzas_in_total{kind="message"} 1`,
		`parley_stanzas_in_total{kind="iq"} 0`,
		`parley_stanzas_out_total{kind="presence"} 2`,
		`parley_auth_failures_total{mechanism="SCRAM-SHA-256"} 1`,
		`parley_routing_errors_total{condition="service-unavailable"} 1`,
		`parley_store_seconds_count{op="StoreOffline"} 1`,
		"parley_durable_write_failures_total 1",
		`parley_s2s_links_total{auth="dialback",direction="in"} 1`,
		`parley_store_seconds_bucket{op="StoreOffline",le="0.0064"} 1`,
		`parley_store_seconds_bucket{op="StoreOffline",le="0.0016"} 0`,
		"go_goroutines ",
		"process_open_fds ",
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if !strings.Contains(body, want) {
				t.Errorf("scrape lacks %q", want)
			}
		})
	}
}

// TestSeparateRegistries: two servers in one process (as in tests) keep
// their own counts and do not panic on duplicate registration.
func TestSeparateRegistries(t *testing.T) {
	a, b := New(), New()
	a.StanzaIn(KindIQ)
	if !strings.Contains(scrape(t, a), `parley_stanzas_in_total{kind="iq"} 1`) {
		t.Error("a did not count")
	}
	if !strings.Contains(scrape(t, b), `parley_stanzas_in_total{kind="iq"} 0`) {
		t.Error("b saw a's count")
	}
}

func TestConcurrentRecording(t *testing.T) {
	m := New()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				m.StanzaIn(KindMessage)
				m.Session(TransportWebSocket, 1)
				m.Session(TransportWebSocket, -1)
			}
		})
	}
	wg.Wait()
	body := scrape(t, m)
	for i, want := range []string{
		`parley_stanzas_in_total{kind="message"} 800`,
		`parley_sessions{transport="websocket"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("%d: scrape lacks %q", i, want)
		}
	}
}
