package upload

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/clock"
	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/store/sqlite"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// env is the service on a real router and SQLite store, its handler on a
// real HTTPS server (HTTP/2 enabled), and alice's bound session.
type env struct {
	t      testing.TB
	m      *Module
	r      *router.Router
	st     *sqlite.Store
	clk    *clock.Fake
	alice  *imtest.Session
	srv    *httptest.Server
	blobs  string // the blob directory
	client *http.Client
}

func newEnv(t testing.TB, configure func(*Options)) *env {
	t.Helper()
	e := &env{t: t, clk: clock.NewFake(t0)}
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	for _, u := range []string{"alice", "bob"} {
		if err := st.CreateUser(t.Context(), store.User{Username: u}); err != nil {
			t.Fatal(err)
		}
	}
	e.blobs = filepath.Join(dir, "uploads")
	e.r = router.New(jid.MustParse("localhost"), imtest.Accounts{"alice": true, "bob": true}, nil)
	o := Options{Store: st, Accounts: st, Blobs: Dir(e.blobs), Secret: bytes.Repeat([]byte{7}, SecretSize),
		BaseURL: func() string { return e.srv.URL }, Clock: e.clk,
		Log: slog.New(slog.NewTextHandler(t.Output(), nil))}
	if configure != nil {
		configure(&o)
	}
	e.m = New(o)
	e.m.Register(e.r)
	t.Cleanup(e.m.Close)
	e.srv = httptest.NewUnstartedServer(e.m.Handler())
	e.srv.EnableHTTP2 = true
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	e.client = e.srv.Client()
	e.alice = imtest.NewSession(t, "alice@localhost/phone")
	e.r.Bind(e.alice)
	return e
}

// iq routes an IQ from alice's session and returns the one reply.
func (e *env) iq(raw string) *stanza.Stanza {
	e.t.Helper()
	e.r.Route(context.Background(), imtest.Parse(e.t, raw))
	got := e.alice.Take()
	if len(got) != 1 {
		e.t.Fatalf("%d replies to %s: %v", len(got), raw, got)
	}
	return got[0]
}

// slot asks for a slot and returns its PUT and GET URLs.
func (e *env) slot(name string, size int, ctype string) (put, get string) {
	e.t.Helper()
	ct := ""
	if ctype != "" {
		ct = " content-type='" + ctype + "'"
	}
	rep := e.iq(`<iq type='get' id='s' from='alice@localhost/phone' to='upload.localhost'><request xmlns='urn:xmpp:http:upload:0' filename='` +
		name + `' size='` + strconv.Itoa(size) + `'` + ct + `/></iq>`)
	sl := rep.El.Child("slot", NS)
	if rep.Type != "result" || sl == nil {
		e.t.Fatalf("slot request: %s", rep.El)
	}
	return sl.Child("put", NS).Get("url"), sl.Child("get", NS).Get("url")
}

// put sends body to url with a Content-Type (none if "").
func (e *env) put(url, ctype string, body []byte) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return e.do(req)
}

// store PUTs body to a slot's put URL and fails the test unless it is
// stored (201).
func (e *env) store(url, ctype string, body []byte) {
	e.t.Helper()
	if resp := e.put(url, ctype, body); resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("PUT: %s", resp.Status)
	}
}

func (e *env) do(req *http.Request) *http.Response {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (e *env) get(url string, header ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp := e.do(req)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// files lists the regular files under the blob directory.
func (e *env) files() []string {
	e.t.Helper()
	var out []string
	filepath.WalkDir(e.blobs, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, strings.TrimPrefix(p, e.blobs))
		}
		return nil
	})
	return out
}

// cleanedUp asks the cleanup for a pass now rather than at its next tick
// (Forget, as an account deletion does) and waits until neither a file
// nor an expired upload's row is left.
func (e *env) cleanedUp(username string) {
	e.t.Helper()
	e.m.Forget(username)
	xmpptest.Eventually(e.t, 5*time.Second, func() error {
		if f := e.files(); len(f) != 0 {
			return errorf("files left: %q", f)
		}
		if ids, _ := e.st.ExpiredUploads(e.t.Context(), e.clk.Now(), 10); len(ids) != 0 {
			return errorf("rows left: %q", ids)
		}
		return nil
	})
}

// errorOf returns the condition and the XEP-0363 application element of an
// error reply.
func errorOf(st *stanza.Stanza) (string, *xmlstream.Element) {
	e := st.El.Child("error", stanza.NSClient)
	if e == nil {
		return "", nil
	}
	var cond string
	var app *xmlstream.Element
	for _, c := range e.Children {
		switch {
		case c.Space == "urn:ietf:params:xml:ns:xmpp-stanzas" && c.Name != "text":
			cond = c.Name
		case c.Space == NS:
			app = c
		}
	}
	return cond, app
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
