package httpapi_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"parley/internal/config"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestHostMetaOverHTTP: a web client reads the WebSocket endpoint from
// the server's /.well-known/host-meta (and .json), as XEP-0156 §3 has it,
// and logs in over the URL it found.
func TestHostMetaOverHTTP(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) { c.AllowPlaintext = true })
	srv.AddUser(t, "wendy", "hostmeta pass 1")
	get := func(path string) *http.Response {
		t.Helper()
		res, err := http.Get("http://" + srv.HTTP() + path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		if res.StatusCode != 200 {
			t.Fatalf("%s: %s", path, res.Status)
		}
		return res
	}
	var xrd struct {
		XMLName xml.Name `xml:"http://docs.oasis-open.org/ns/xri/xrd-1.0 XRD"`
		Links   []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"Link"`
	}
	if err := xml.NewDecoder(get("/.well-known/host-meta").Body).Decode(&xrd); err != nil {
		t.Fatal(err)
	}
	var jrd struct {
		Links []struct{ Rel, Href string }
	}
	if err := json.NewDecoder(get("/.well-known/host-meta.json").Body).Decode(&jrd); err != nil {
		t.Fatal(err)
	}
	if len(xrd.Links) != 2 || len(jrd.Links) != 2 || xrd.Links[0].Rel != "urn:xmpp:alt-connections:websocket" ||
		xrd.Links[1].Rel != "urn:xmpp:alt-connections:xbosh" || !strings.HasSuffix(xrd.Links[1].Href, "/http-bind") {
		t.Fatalf("links: %+v %+v", xrd, jrd)
	}
	for i := range xrd.Links {
		if jrd.Links[i].Rel != xrd.Links[i].Rel || jrd.Links[i].Href != xrd.Links[i].Href {
			t.Fatalf("host-meta and host-meta.json differ: %+v %+v", xrd, jrd)
		}
	}
	c, err := xmpptest.DialWebSocket(context.Background(), xrd.Links[0].Href, xmpptest.Options{User: "wendy", Password: "hostmeta pass 1"})
	if err != nil {
		t.Fatalf("login at %s: %v", xrd.Links[0].Href, err)
	}
	c.Close()
}
