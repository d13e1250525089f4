package httpapi

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestHostMeta: XEP-0156 §3.1's two documents name the WebSocket and BOSH
// endpoints at the host the request was sent to, wss and https over TLS
// or behind a proxy that terminated it; without a WebSocket endpoint
// there is nothing to name.
func TestHostMeta(t *testing.T) {
	h := Handler(Endpoints{WebSocket: http.NotFoundHandler()})
	const xrd = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">` + "\n" +
		`  <Link rel="urn:xmpp:alt-connections:websocket" href="%s"></Link>` + "\n" +
		`  <Link rel="urn:xmpp:alt-connections:xbosh" href="%s"></Link>` + "\n" +
		`</XRD>` + "\n"
	const jrd = "{\n  \"links\": [\n    {\n      \"rel\": \"urn:xmpp:alt-connections:websocket\",\n      \"href\": \"%s\"\n    },\n" +
		"    {\n      \"rel\": \"urn:xmpp:alt-connections:xbosh\",\n      \"href\": \"%s\"\n    }\n  ]\n}\n"
	tests := []struct {
		path, host string
		tls        bool
		proto      string
		ctype      string
		body, href string
		bosh       string
	}{
		0: {path: "/.well-known/host-meta", host: "example.com", tls: true, ctype: "application/xrd+xml; charset=utf-8", body: xrd, href: "wss://example.com/xmpp-websocket", bosh: "https://example.com/http-bind"},
		1: {path: "/.well-known/host-meta.json", host: "example.com", tls: true, ctype: "application/json", body: jrd, href: "wss://example.com/xmpp-websocket", bosh: "https://example.com/http-bind"},
		2: {path: "/.well-known/host-meta", host: "127.0.0.1:5280", ctype: "application/xrd+xml; charset=utf-8", body: xrd, href: "ws://127.0.0.1:5280/xmpp-websocket", bosh: "http://127.0.0.1:5280/http-bind"},
		3: {path: "/.well-known/host-meta.json", host: "chat.example.com", proto: "https", ctype: "application/json", body: jrd, href: "wss://chat.example.com/xmpp-websocket", bosh: "https://chat.example.com/http-bind"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://"+tc.host+tc.path, nil)
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			body, _ := io.ReadAll(w.Result().Body)
			if w.Code != 200 || w.Header().Get("Content-Type") != tc.ctype || w.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("%d %v", w.Code, w.Header())
			}
			if want := fmt.Sprintf(tc.body, tc.href, tc.bosh); string(body) != want {
				t.Fatalf("got\n%s\nwant\n%s", body, want)
			}
		})
	}
	w := httptest.NewRecorder()
	Handler(Endpoints{}).ServeHTTP(w, httptest.NewRequest("GET", "http://example.com/.well-known/host-meta", nil))
	if w.Code != http.StatusNotFound {
		t.Fatalf("without WebSocket: %d", w.Code)
	}
}
