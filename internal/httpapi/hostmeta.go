package httpapi

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
)

// XEP-0156 §3: the link relations of an RFC 7395 WebSocket endpoint and
// of a BOSH (XEP-0206) endpoint.
const (
	relWebSocket = "urn:xmpp:alt-connections:websocket"
	relBOSH      = "urn:xmpp:alt-connections:xbosh"
)

// link is one alternative connection method of host-meta (RFC 6415).
type link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// hostMetaLinks names the WebSocket and BOSH endpoints as the requester
// reached this server: wss and https when the request came over TLS or
// through a proxy that says it terminated TLS (X-Forwarded-Proto), else
// ws and http, on the host
// (and port) the request was addressed to. Taking them from the request
// can only mislead the requester itself, and works unchanged behind a
// reverse proxy serving the domain's https://domain/.well-known/.
func hostMetaLinks(r *http.Request) []link {
	ws, web := "ws", "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		ws, web = "wss", "https"
	}
	return []link{
		{Rel: relWebSocket, Href: (&url.URL{Scheme: ws, Host: r.Host, Path: "/xmpp-websocket"}).String()},
		{Rel: relBOSH, Href: (&url.URL{Scheme: web, Host: r.Host, Path: "/http-bind"}).String()},
	}
}

// hostMetaHeaders are those of both documents: browser clients on other
// origins fetch them (CORS), and they change only with the deployment.
func hostMetaHeaders(w http.ResponseWriter, contentType string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Cache-Control", "max-age=3600")
}

// serveHostMeta answers /.well-known/host-meta with an XRD document
// (XEP-0156 §3.1, RFC 6415 §3).
func serveHostMeta(w http.ResponseWriter, r *http.Request) {
	type xrdLink struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	}
	doc := struct {
		XMLName xml.Name  `xml:"http://docs.oasis-open.org/ns/xri/xrd-1.0 XRD"`
		Links   []xrdLink `xml:"Link"`
	}{}
	for _, l := range hostMetaLinks(r) {
		doc.Links = append(doc.Links, xrdLink(l))
	}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	hostMetaHeaders(w, "application/xrd+xml; charset=utf-8")
	w.Write([]byte(xml.Header))
	w.Write(append(b, '\n'))
}

// serveHostMetaJSON answers /.well-known/host-meta.json with the JRD form
// (XEP-0156 §3.1, RFC 6415 Appendix A).
func serveHostMetaJSON(w http.ResponseWriter, r *http.Request) {
	b, err := json.MarshalIndent(struct {
		Links []link `json:"links"`
	}{hostMetaLinks(r)}, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	hostMetaHeaders(w, "application/json")
	w.Write(append(b, '\n'))
}
