// Package httpapi serves parley's HTTP endpoints: the RFC 7395 WebSocket
// endpoint, BOSH (XEP-0206) and their XEP-0156 host-meta discovery, Prometheus metrics and
// the health check. The admin REST API and
// the web client will join them here.
package httpapi

import (
	"context"
	"crypto/subtle"
	"net/http"
	"time"
)

// Endpoints are the handlers the mux serves; nil ones are not routed.
type Endpoints struct {
	WebSocket http.Handler // /xmpp-websocket
	BOSH      http.Handler // /http-bind (XEP-0206)
	Metrics   http.Handler // /metrics
	Upload    http.Handler // /upload/ (XEP-0363 slots: PUT, GET, OPTIONS)
	AdminAPI  http.Handler // /api/v1/ (internal/adminapi)
	Hooks     http.Handler // POST /api/v1/hooks/{id} (internal/webhook)
	// Health reports whether the server can serve (e.g. the store
	// answers); /healthz is 200 "ok" or 503 with the error.
	Health func(ctx context.Context) error
	// Degraded, if set and not nil, is why the server serves but not
	// everything works (durable writes failing); /healthz is then 200
	// "degraded: <reason>".
	Degraded func() error
}

// Handler builds the mux.
func Handler(e Endpoints) http.Handler {
	mux := http.NewServeMux()
	if e.WebSocket != nil {
		mux.Handle("GET /xmpp-websocket", e.WebSocket)
		// XEP-0156: how web clients find it (hostmeta.go).
		mux.HandleFunc("GET /.well-known/host-meta", serveHostMeta)
		mux.HandleFunc("GET /.well-known/host-meta.json", serveHostMetaJSON)
	}
	if e.BOSH != nil {
		mux.Handle("/http-bind", e.BOSH)
	}
	if e.Metrics != nil {
		mux.Handle("GET /metrics", e.Metrics)
	}
	if e.Upload != nil {
		mux.Handle("/upload/", e.Upload)
	}
	if e.AdminAPI != nil {
		mux.Handle("/api/v1/", e.AdminAPI)
	}
	if e.Hooks != nil {
		mux.Handle("POST /api/v1/hooks/{id}", e.Hooks)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if e.Health != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := e.Health(ctx); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte("unavailable: " + err.Error() + "\n"))
				return
			}
		}
		if e.Degraded != nil {
			if err := e.Degraded(); err != nil {
				w.Write([]byte("degraded: " + err.Error() + "\n"))
				return
			}
		}
		w.Write([]byte("ok\n"))
	})
	return mux
}

// Bearer serves h only to requests that carry "Authorization: Bearer
// token" (RFC 6750 §2.1); others get 401 with a WWW-Authenticate
// challenge (§3). The comparison takes the same time for any wrong token.
func Bearer(token string, h http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if token == "" || subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// MetricsOnly is the mux of the metrics listener: /metrics and nothing
// else.
func MetricsOnly(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	return mux
}
