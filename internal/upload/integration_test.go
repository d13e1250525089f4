package upload_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const password = "upload test pass"

// startHTTPS starts a server with the HTTPS listener and alice and bob.
func startHTTPS(t *testing.T) *testserver.Server {
	t.Helper()
	srv := testserver.Start(t, func(c *config.Config) { c.Listen.HTTPS = "127.0.0.1:0" })
	srv.AddUsers(t, password, "alice", "bob")
	return srv
}

// requestSlot asks upload.localhost for a slot and returns the PUT and
// GET URLs.
func requestSlot(t *testing.T, c *xmpptest.Client, name string, size int, ctype string) (string, string) {
	t.Helper()
	rep, err := c.IQ(10*time.Second, "get", "upload.localhost",
		`<request xmlns='urn:xmpp:http:upload:0' filename='`+name+`' size='`+strconv.Itoa(size)+`' content-type='`+ctype+`'/>`)
	if err != nil {
		t.Fatal(err)
	}
	sl := rep.Child("slot", "urn:xmpp:http:upload:0")
	if sl == nil {
		t.Fatalf("slot request: %s", rep)
	}
	return sl.Child("put", "urn:xmpp:http:upload:0").Get("url"), sl.Child("get", "urn:xmpp:http:upload:0").Get("url")
}

// TestUploadOverHTTPS: the real server: upload.<domain> is a disco item
// advertising the feature and max-file-size; a slot's URLs are https on
// the HTTPS listener; alice PUTs over HTTP/2 with HSTS, and bob downloads
// the same bytes; the plain HTTP listener serves them too.
func TestUploadOverHTTPS(t *testing.T) {
	srv := startHTTPS(t)
	alice := srv.Online(t, "alice", password, "phone")
	items, err := alice.IQ(10*time.Second, "get", "localhost", `<query xmlns='http://jabber.org/protocol/disco#items'/>`)
	if err != nil || !strings.Contains(items.String(), `upload.localhost`) {
		t.Fatalf("disco#items of the domain: %v %v", items, err)
	}
	info, err := alice.IQ(10*time.Second, "get", "upload.localhost", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if err != nil || !strings.Contains(info.String(), `urn:xmpp:http:upload:0`) || !strings.Contains(info.String(), `max-file-size`) {
		t.Fatalf("disco#info of upload.localhost: %v %v", info, err)
	}
	body := make([]byte, 300000)
	rand.Read(body)
	put, get := requestSlot(t, alice, "photo.jpg", len(body), "image/jpeg")
	if base := "https://localhost:" + portOf(srv.HTTPS()) + "/upload/"; !strings.HasPrefix(put, base) || !strings.HasPrefix(get, base) {
		t.Fatalf("slot URLs %s %s, want under %s", put, get, base)
	}
	hc := srv.HTTPSClient(t)
	req, _ := http.NewRequest(http.MethodPut, put, bytes.NewReader(body))
	req.Header.Set("Content-Type", "image/jpeg")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.ProtoMajor != 2 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("PUT: %s over %s, HSTS %q", resp.Status, resp.Proto, resp.Header.Get("Strict-Transport-Security"))
	}
	// Bob, another account on another client, downloads it.
	srv.Online(t, "bob", password, "laptop")
	got := download(t, srv.HTTPSClient(t), get)
	if !bytes.Equal(got, body) {
		t.Fatalf("bob downloaded %d bytes, not the %d alice uploaded", len(got), len(body))
	}
	plain := "http://" + srv.HTTP() + get[strings.Index(get, "/upload/"):]
	if got := download(t, http.DefaultClient, plain); !bytes.Equal(got, body) {
		t.Fatalf("plain HTTP listener served %d bytes", len(got))
	}
}

func download(t *testing.T, hc *http.Client, url string) []byte {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return b
}

// TestWebSocketOverHTTPS: wss:// on the HTTPS listener carries XMPP
// (RFC 7395) and counts as encrypted: SCRAM login without STARTTLS.
func TestWebSocketOverHTTPS(t *testing.T) {
	srv := startHTTPS(t)
	tc := srv.TLSConfig(t, "http/1.1")
	tc.ServerName = "localhost"
	c, err := xmpptest.DialWebSocket(context.Background(), "wss://"+srv.HTTPS()+"/xmpp-websocket",
		xmpptest.Options{User: "alice", Password: password, TLSConfig: tc})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rep, err := c.IQ(10*time.Second, "get", "", `<ping xmlns='urn:xmpp:ping'/>`)
	if err != nil || rep.Get("type") != "result" {
		t.Fatalf("ping over wss: %v %v", rep, err)
	}
}

// TestAccountRemovalRemovesUploads: an account removed in-band (XEP-0077)
// takes its uploads with it: the URL answers 404 and the file is gone.
func TestAccountRemovalRemovesUploads(t *testing.T) {
	srv := startHTTPS(t)
	alice := srv.Online(t, "alice", password, "phone")
	put, get := requestSlot(t, alice, "a.txt", 5, "text/plain")
	hc := srv.HTTPSClient(t)
	req, _ := http.NewRequest(http.MethodPut, put, strings.NewReader("hello"))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := alice.IQ(10*time.Second, "set", "", `<query xmlns='jabber:iq:register'><remove/></query>`); err != nil {
		t.Fatal(err)
	}
	xmpptest.Eventually(t, 10*time.Second, func() error {
		resp, err := hc.Get(get)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			return errorString("GET after removal: " + resp.Status)
		}
		if n := countFiles(filepath.Join(srv.Config.Data, "uploads")); n != 0 {
			return errorString("files left: " + strconv.Itoa(n))
		}
		return nil
	})
}

type errorString string

func (e errorString) Error() string { return string(e) }

func countFiles(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// TestHTTPSOff: with [listen] https off and no [upload] url there is no
// HTTPS listener and no upload service (clients refuse http URLs); the
// plain listener keeps /metrics, which the HTTPS one does not serve.
func TestHTTPSOff(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) { c.Listen.HTTPS = config.Off })
	srv.AddUser(t, "alice", password)
	if srv.Addr("https") != nil {
		t.Fatal("an HTTPS listener with https = off")
	}
	alice := srv.Online(t, "alice", password, "phone")
	items, err := alice.IQ(10*time.Second, "get", "localhost", `<query xmlns='http://jabber.org/protocol/disco#items'/>`)
	if err != nil || strings.Contains(items.String(), "upload.localhost") {
		t.Fatalf("disco#items with the upload service off: %v %v", items, err)
	}
	rep, err := alice.IQ(10*time.Second, "get", "upload.localhost", `<request xmlns='urn:xmpp:http:upload:0' filename='a' size='1'/>`)
	if err != nil || rep.Get("type") != "error" {
		t.Fatalf("slot request with the service off: %v %v", rep, err)
	}
}

// TestMetricsNotOnHTTPS: the public HTTPS listener does not serve
// /metrics (that is for the plain listener, which operators keep private).
func TestMetricsNotOnHTTPS(t *testing.T) {
	srv := startHTTPS(t)
	resp, err := srv.HTTPSClient(t).Get("https://localhost:" + portOf(srv.HTTPS()) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics over HTTPS: %s", resp.Status)
	}
}

func portOf(addr string) string {
	_, port, _ := strings.Cut(addr, ":")
	return port
}
