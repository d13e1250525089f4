package upload

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/internal/im/imtest"
	"parley/internal/store"
	"parley/internal/xmpptest"
)

// TestDiscoInfo: XEP-0363 §2, the feature, the store/file identity and the
// max-file-size field of an XEP-0128 form.
func TestDiscoInfo(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxFileSize = 5242880 })
	rep := e.iq(`<iq type='get' id='d' from='alice@localhost/phone' to='upload.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
	q := rep.El.Child("query", nsDiscoInfo)
	if rep.Type != "result" || q == nil {
		t.Fatalf("disco#info: %s", rep.El)
	}
	s := q.String()
	for _, want := range []string{`category="store"`, `type="file"`, `var="urn:xmpp:http:upload:0"`,
		`<value>urn:xmpp:http:upload:0</value>`, `var="max-file-size"`, `<value>5242880</value>`} {
		if !strings.Contains(strings.ReplaceAll(s, "'", `"`), want) {
			t.Errorf("disco#info lacks %s: %s", want, s)
		}
	}
}

// TestRoundTrip: slot, PUT, GET over HTTPS (HTTP/2), the bytes compared,
// with the headers that keep a browser from running the file.
func TestRoundTrip(t *testing.T) {
	e := newEnv(t, nil)
	body := make([]byte, 100000)
	rand.Read(body)
	put, get := e.slot("my juliet.png", len(body), "image/png")
	if !strings.HasPrefix(put, e.srv.URL+Path) || !strings.Contains(get, "/my%20juliet.png") {
		t.Fatalf("slot URLs put=%s get=%s", put, get)
	}
	e.store(put, "image/png", body)
	resp, got := e.get(get)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("GET: %s, %d bytes, equal %v", resp.Status, len(got), bytes.Equal(got, body))
	}
	if resp.ProtoMajor != 2 {
		t.Errorf("GET over %s, want HTTP/2", resp.Proto)
	}
	for k, want := range map[string]string{
		"Content-Type":                "image/png",
		"X-Content-Type-Options":      "nosniff",
		"Content-Security-Policy":     "default-src 'none'",
		"Content-Disposition":         `inline; filename="my juliet.png"`,
		"Access-Control-Allow-Origin": "*",
		"Accept-Ranges":               "bytes",
	} {
		if v := resp.Header.Get(k); v != want {
			t.Errorf("%s: %q, want %q", k, v, want)
		}
	}
	if resp.Header.Get("ETag") == "" {
		t.Error("no ETag")
	}
	// The same body in ranges, and not again when the client has it.
	resp, part := e.get(get, "Range", "bytes=10-19")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, body[10:20]) {
		t.Errorf("range: %s %x", resp.Status, part)
	}
	resp, _ = e.get(get, "If-None-Match", resp.Header.Get("ETag"))
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %s", resp.Status)
	}
	if resp, _ := e.get(strings.Replace(get, "my%20juliet.png", "other.png", 1)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET under another name: %s", resp.Status)
	}
}

// TestDisposition: what a browser would run is a download, never shown in
// the service's origin.
func TestDisposition(t *testing.T) {
	for i, tc := range []struct {
		ctype, want string
	}{
		0: {"text/html", "attachment"},
		1: {"image/svg+xml", "attachment"},
		2: {"application/javascript", "attachment"},
		3: {"text/xml", "attachment"},
		4: {"application/xhtml+xml", "attachment"},
		5: {"application/octet-stream", "attachment"},
		6: {"image/jpeg", "inline"},
		7: {"video/mp4", "inline"},
		8: {"text/plain; charset=utf-8", "inline"},
		9: {"TEXT/HTML", "attachment"},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got := disposition(tc.ctype); got != tc.want {
				t.Errorf("disposition(%q) = %s, want %s", tc.ctype, got, tc.want)
			}
		})
	}
	e := newEnv(t, nil)
	put, get := e.slot("x.html", 5, "text/html")
	if resp := e.put(put, "text/html", []byte("<b>x")[:4]); resp.StatusCode == http.StatusCreated {
		t.Fatal("a 4-byte body went into a 5-byte slot")
	}
	e.store(put, "text/html", []byte("<b>x!"))
	resp, _ := e.get(get)
	if d := resp.Header.Get("Content-Disposition"); d != `attachment; filename=x.html` {
		t.Errorf("Content-Disposition of text/html: %q", d)
	}
}

// TestCORS: the preflight of a browser's PUT and the headers on answers
// (web clients upload and download from other origins).
func TestCORS(t *testing.T) {
	e := newEnv(t, nil)
	put, _ := e.slot("a.txt", 1, "text/plain")
	req, _ := http.NewRequest(http.MethodOptions, put, nil)
	req.Header.Set("Origin", "https://web.example")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp := e.do(req)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("preflight: %s", resp.Status)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":  "*",
		"Access-Control-Allow-Methods": "GET, HEAD, PUT, OPTIONS",
		"Access-Control-Allow-Headers": "Content-Type, Range",
	} {
		if v := resp.Header.Get(k); v != want {
			t.Errorf("%s: %q, want %q", k, v, want)
		}
	}
	if resp := e.put(put, "text/plain", []byte("x")); resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("PUT answer without Access-Control-Allow-Origin")
	}
}

// TestSlotRefused: requests the service refuses, with XEP-0363 §5's
// errors, and no slot recorded.
func TestSlotRefused(t *testing.T) {
	long := strings.Repeat("a", 256)
	for i, tc := range []struct {
		from, req string
		cond      string
		app       string // XEP-0363 element in the error
	}{
		0:  {"alice@localhost/phone", `filename='big.bin' size='1025'`, "not-acceptable", "file-too-large"},
		1:  {"alice@localhost/phone", `filename='a/b.png' size='1'`, "not-acceptable", ""},
		2:  {"alice@localhost/phone", `filename='a\b.png' size='1'`, "not-acceptable", ""},
		3:  {"alice@localhost/phone", `filename='..' size='1'`, "not-acceptable", ""},
		4:  {"alice@localhost/phone", `filename='` + long + `' size='1'`, "not-acceptable", ""},
		5:  {"alice@localhost/phone", `filename='a&#10;b' size='1'`, "not-acceptable", ""},
		6:  {"alice@localhost/phone", `filename='a.png' size='1' content-type='nonsense'`, "not-acceptable", ""},
		7:  {"alice@localhost/phone", `filename='a.exe' size='1' content-type='application/x-msdownload'`, "not-acceptable", ""},
		8:  {"alice@localhost/phone", `filename='a.png' size='-1'`, "bad-request", ""},
		9:  {"alice@localhost/phone", `filename='a.png'`, "bad-request", ""},
		10: {"alice@localhost/phone", `size='3'`, "bad-request", ""},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			e := newEnv(t, func(o *Options) {
				o.MaxFileSize = 1024
				o.ContentTypes = []string{"image/*", "text/plain", "application/octet-stream"}
			})
			rep := e.iq(`<iq type='get' id='s' from='` + tc.from + `' to='upload.localhost'><request xmlns='urn:xmpp:http:upload:0' ` + tc.req + `/></iq>`)
			cond, app := errorOf(rep)
			if rep.Type != "error" || cond != tc.cond {
				t.Fatalf("reply %s, want %s", rep.El, tc.cond)
			}
			if tc.app != "" && (app == nil || app.Name != tc.app) {
				t.Fatalf("reply %s lacks <%s/>", rep.El, tc.app)
			}
			if tc.app == "file-too-large" && app.ChildText("max-file-size", NS) != "1024" {
				t.Errorf("max-file-size in %s", rep.El)
			}
			if u, _ := e.st.UploadUsage(t.Context(), "alice", t0.Add(-time.Hour), t0); u.Count != 0 {
				t.Errorf("a refused request reserved a slot: %+v", u)
			}
		})
	}
}

// TestRemoteRefused: only this server's accounts get slots.
func TestRemoteRefused(t *testing.T) {
	e := newEnv(t, nil)
	e.r.Route(context.Background(), imtest.Parse(t, `<iq type='get' id='s' from='mallory@elsewhere.example/x' to='upload.localhost'><request xmlns='urn:xmpp:http:upload:0' filename='a.png' size='1'/></iq>`))
	if u, _ := e.st.UploadUsage(t.Context(), "mallory", t0.Add(-time.Hour), t0); u.Count != 0 {
		t.Fatalf("a remote entity reserved a slot")
	}
}

// TestQuota: the per-day and total quotas answer resource-constraint with
// the time to retry at (XEP-0363 §5), counting reserved slots too.
func TestQuota(t *testing.T) {
	t.Run("day", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.DayBytes = 100; o.QuotaBytes = 1000 })
		e.slot("a.bin", 60, "")
		e.clk.Advance(time.Minute) // reserved slots count until they expire
		e.slot("b.bin", 40, "")
		rep := e.iq(`<iq type='get' id='s' from='alice@localhost/phone' to='upload.localhost'><request xmlns='urn:xmpp:http:upload:0' filename='c.bin' size='1'/></iq>`)
		cond, app := errorOf(rep)
		if cond != "resource-constraint" || app == nil || app.Name != "retry" {
			t.Fatalf("over the day quota: %s", rep.El)
		}
		// The first slot, reserved at t0, leaves the window a day later.
		if got := app.Get("stamp"); got != t0.Add(24*time.Hour).Format(time.RFC3339) {
			t.Errorf("retry stamp %s, want %s", got, t0.Add(24*time.Hour).Format(time.RFC3339))
		}
	})
	t.Run("total", func(t *testing.T) {
		e := newEnv(t, func(o *Options) { o.DayBytes = 1000; o.QuotaBytes = 100; o.Expire = 48 * time.Hour })
		put, _ := e.slot("a.bin", 100, "")
		e.store(put, "", make([]byte, 100))
		rep := e.iq(`<iq type='get' id='s' from='alice@localhost/phone' to='upload.localhost'><request xmlns='urn:xmpp:http:upload:0' filename='c.bin' size='1'/></iq>`)
		cond, app := errorOf(rep)
		if cond != "resource-constraint" || app == nil || app.Get("stamp") != t0.Add(48*time.Hour).Format(time.RFC3339) {
			t.Fatalf("over the total quota: %s", rep.El)
		}
	})
}

// TestPutRefused: every PUT the service must refuse, and nothing stored
// after any of them.
func TestPutRefused(t *testing.T) {
	body := []byte("hello")
	for i, tc := range []struct {
		name   string
		change func(e *env, put string) *http.Response
		status int
	}{
		{"forged signature", func(e *env, put string) *http.Response {
			i := strings.Index(put, "s=")
			return e.put(put[:i+2]+strings.Repeat("0", 64), "image/png", body)
		}, http.StatusForbidden},
		{"no signature", func(e *env, put string) *http.Response {
			return e.put(put[:strings.IndexByte(put, '?')], "image/png", body)
		}, http.StatusForbidden},
		{"longer expiry", func(e *env, put string) *http.Response {
			return e.put(strings.Replace(put, "e=", "e=9", 1), "image/png", body)
		}, http.StatusForbidden},
		{"expired", func(e *env, put string) *http.Response {
			e.clk.Advance(DefaultSlotTTL)
			return e.put(put, "image/png", body)
		}, http.StatusForbidden},
		{"wrong length", func(e *env, put string) *http.Response {
			return e.put(put, "image/png", []byte("hello!"))
		}, http.StatusForbidden},
		{"wrong type", func(e *env, put string) *http.Response {
			return e.put(put, "text/html", body)
		}, http.StatusForbidden},
		{"no type", func(e *env, put string) *http.Response {
			return e.put(put, "", body)
		}, http.StatusForbidden},
		{"no length (chunked)", func(e *env, put string) *http.Response {
			req, _ := http.NewRequest(http.MethodPut, put, struct{ *bytes.Reader }{bytes.NewReader(body)})
			req.ContentLength = -1
			req.Header.Set("Content-Type", "image/png")
			return e.do(req)
		}, http.StatusLengthRequired},
		{"other slot's signature", func(e *env, put string) *http.Response {
			other, _ := e.slot("a.png", 5, "image/png")
			i, j := strings.IndexByte(put, '?'), strings.IndexByte(other, '?')
			return e.put(put[:i]+other[j:], "image/png", body)
		}, http.StatusForbidden},
	} {
		t.Run(strconv.Itoa(i)+"_"+tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			put, get := e.slot("a.png", len(body), "image/png")
			resp := tc.change(e, put)
			if resp.StatusCode != tc.status {
				t.Fatalf("PUT: %s, want %d", resp.Status, tc.status)
			}
			if f := e.files(); len(f) != 0 {
				t.Errorf("files stored after a refused PUT: %q", f)
			}
			if resp, _ := e.get(get); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET after a refused PUT: %s", resp.Status)
			}
		})
	}
}

// TestPutOnce: a slot takes one PUT; a second one, even with the same
// bytes, is refused and changes nothing.
func TestPutOnce(t *testing.T) {
	e := newEnv(t, nil)
	put, get := e.slot("a.txt", 5, "text/plain")
	e.store(put, "text/plain", []byte("first"))
	if resp := e.put(put, "text/plain", []byte("again")); resp.StatusCode != http.StatusConflict {
		t.Fatalf("second PUT: %s, want 409", resp.Status)
	}
	if _, b := e.get(get); string(b) != "first" {
		t.Fatalf("GET after a second PUT: %q", b)
	}
}

// wantUnused waits until the slot of get is reserved again after what
// failed, and checks that no file was left behind.
func (e *env) wantUnused(get, what string) {
	e.t.Helper()
	xmpptest.Eventually(e.t, 5*time.Second, func() error {
		u, err := e.st.Upload(context.Background(), idOf(get))
		if err != nil || u.State != store.UploadReserved {
			return errorf("slot state %v (%v), want reserved", u.State, err)
		}
		return nil
	})
	if f := e.files(); len(f) != 0 {
		e.t.Fatalf("files after %s: %q", what, f)
	}
}

// TestShortBody: a body that ends before Content-Length stores nothing,
// and the slot can be used again until it expires.
func TestShortBody(t *testing.T) {
	e := newEnv(t, nil)
	put, get := e.slot("a.bin", 10, "")
	req, _ := http.NewRequest(http.MethodPut, put, strings.NewReader("12345"))
	req.ContentLength = 10
	if resp, err := e.client.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusCreated {
			t.Fatal("a short body was stored")
		}
	}
	e.wantUnused(get, "a short body")
	if resp := e.put(put, "", []byte("1234567890")); resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT after a short one: %s", resp.Status)
	}
}

// TestBlobsExact: Dir stores exactly the declared size or nothing.
func TestBlobsExact(t *testing.T) {
	d := Dir(t.TempDir())
	for i, body := range []string{"1234", "123456"} {
		if err := d.Put("abcdef", strings.NewReader(body), 5); err != ErrBody {
			t.Errorf("%d: Put of %d bytes as 5: %v", i, len(body), err)
		}
	}
	if err := d.Put("../../x", strings.NewReader("x"), 1); err == nil {
		t.Error("Put accepted a path as an id")
	}
	var left []string
	filepath.Walk(string(d), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 {
		t.Fatalf("files left after failed Puts: %q", left)
	}
}

// TestUploadsGone: once its files expire, or its account is deleted, an
// account's uploads are unreachable at once, and the cleanup removes files
// and rows in batches.
func TestUploadsGone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		gone   func(e *env)
		forget string // the account the cleanup is told of
	}{
		{"expired", func(e *env) { e.clk.Advance(time.Hour) }, ""},
		{"account deleted", func(e *env) {
			if err := e.st.DeleteUser(e.t.Context(), "alice"); err != nil {
				e.t.Fatal(err)
			}
		}, "alice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Expire = time.Hour; o.CleanupBatch = 2 })
			var gets []string
			for i := range 5 {
				put, get := e.slot("f"+strconv.Itoa(i), 1, "")
				e.store(put, "", []byte{byte(i)})
				gets = append(gets, get)
			}
			if n := len(e.files()); n != 5 {
				t.Fatalf("%d files stored, want 5", n)
			}
			tc.gone(e)
			for _, get := range gets {
				if resp, _ := e.get(get); resp.StatusCode != http.StatusNotFound {
					t.Errorf("GET of %s: %s", get, resp.Status)
				}
			}
			e.cleanedUp(tc.forget)
		})
	}
}

// TestOwnerDisabled: while the uploader's account is disabled (parley user
// suspend, the admin API's suspend or disable) its files are answered as
// absent and its slots take no upload; enabled again, both work.
func TestOwnerDisabled(t *testing.T) {
	e := newEnv(t, nil)
	put, get := e.slot("a.txt", 2, "text/plain")
	e.store(put, "text/plain", []byte("hi"))
	put2, get2 := e.slot("b.txt", 3, "text/plain")
	if err := e.st.SetUserDisabled(t.Context(), "alice", true); err != nil {
		t.Fatal(err)
	}
	if resp, body := e.get(get); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET while disabled: %s %q", resp.Status, body)
	}
	if resp, _ := e.get(get, "Range", "bytes=0-0"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("ranged GET while disabled: %s", resp.Status)
	}
	if resp := e.put(put2, "text/plain", []byte("new")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("PUT while disabled: %s", resp.Status)
	}
	if err := e.st.SetUserDisabled(t.Context(), "alice", false); err != nil {
		t.Fatal(err)
	}
	if resp, body := e.get(get); resp.StatusCode != http.StatusOK || string(body) != "hi" {
		t.Errorf("GET enabled again: %s %q", resp.Status, body)
	}
	if resp := e.put(put2, "text/plain", []byte("new")); resp.StatusCode != http.StatusCreated {
		t.Errorf("PUT enabled again: %s", resp.Status)
	}
	if resp, body := e.get(get2); resp.StatusCode != http.StatusOK || string(body) != "new" {
		t.Errorf("GET of the second file: %s %q", resp.Status, body)
	}
}

// TestCloseStopsCleanup: the cleanup goroutine ends at Close.
func TestCloseStopsCleanup(t *testing.T) {
	e := newEnv(t, nil)
	xmpptest.Eventually(t, 5*time.Second, func() error {
		if cleanupGoroutines() == 0 {
			return errorf("no cleanup goroutine while the module runs")
		}
		return nil
	})
	e.m.Close()
	if n := cleanupGoroutines(); n != 0 {
		t.Fatalf("%d cleanup goroutines after Close", n)
	}
}

func cleanupGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "upload.(*Module).cleanup(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestSecret: made once with mode 0600, read back the same, refused when
// others may read it.
func TestSecret(t *testing.T) {
	p := filepath.Join(t.TempDir(), "upload.secret")
	a, err := LoadSecret(p)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 || len(a) != SecretSize {
		t.Fatalf("secret mode %v, %d bytes", fi.Mode().Perm(), len(a))
	}
	b, err := LoadSecret(p)
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("second load: %v, same %v", err, bytes.Equal(a, b))
	}
	os.Chmod(p, 0o644)
	if _, err := LoadSecret(p); err == nil {
		t.Fatal("a world-readable secret was accepted")
	}
}

func idOf(get string) string {
	rest := get[strings.Index(get, Path)+len(Path):]
	return rest[:strings.IndexByte(rest, '/')]
}

// TestSlowPut: a PUT whose body does not arrive within PutTimeout is cut
// off, stores nothing, and leaves the slot usable until it expires.
func TestSlowPut(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.PutTimeout = 100 * time.Millisecond })
	put, get := e.slot("a.bin", 10, "")
	u, _ := url.Parse(put)
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: 10\r\n\r\n12345", u.RequestURI(), u.Host)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil && resp.StatusCode == http.StatusCreated {
		t.Fatal("a body that never finished was stored")
	}
	e.wantUnused(get, "a slow body")
}

// TestUndeclaredType: a slot requested without a content type takes the
// PUT's whatever it is (XEP-0363 §6: only a declared type must match) and
// serves the file as application/octet-stream, a download.
func TestUndeclaredType(t *testing.T) {
	e := newEnv(t, nil)
	put, get := e.slot("page.html", 4, "")
	e.store(put, "text/html", []byte("<b>!"))
	resp, b := e.get(get)
	if string(b) != "<b>!" || resp.Header.Get("Content-Type") != "application/octet-stream" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("GET: %q, %q, %q", b, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
}

// TestRemoveTemp: a temporary file a crash left is removed once it is
// older than any PUT could be; a fresh one (a PUT under way) stays.
func TestRemoveTemp(t *testing.T) {
	d := Dir(t.TempDir())
	if err := d.Put("abcdef", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(string(d), "ab", tempPrefix+"1")
	fresh := filepath.Join(string(d), "ab", tempPrefix+"2")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	n, err := d.RemoveTemp(time.Now().Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("RemoveTemp: %d, %v", n, err)
	}
	for p, want := range map[string]bool{stale: false, fresh: true, filepath.Join(string(d), "ab", "abcdef"): true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists %v, want %v", p, err == nil, want)
		}
	}
}

// TestConcurrentPut: PUTs of one slot at once: exactly one is stored.
func TestConcurrentPut(t *testing.T) {
	e := newEnv(t, nil)
	put, get := e.slot("a.bin", 4, "")
	const n = 8
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPut, put, strings.NewReader(fmt.Sprintf("%04d", i)))
			resp, err := e.client.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	created := 0
	for c := range codes {
		if c == http.StatusCreated {
			created++
		} else if c != http.StatusConflict {
			t.Errorf("concurrent PUT: %d", c)
		}
	}
	if created != 1 {
		t.Fatalf("%d PUTs of one slot stored", created)
	}
	if _, b := e.get(get); len(b) != 4 {
		t.Fatalf("GET: %q", b)
	}
}

// TestConcurrentSlots: slot requests of one account at once cannot
// together pass a quota only some of them fit.
func TestConcurrentSlots(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.QuotaBytes = 50; o.DayBytes = 1000 })
	const n = 12 // of 10 bytes each: 5 fit
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			e.r.Route(context.Background(), imtest.Parse(t, `<iq type='get' id='c`+strconv.Itoa(i)+`' from='alice@localhost/phone' to='upload.localhost'><request xmlns='urn:xmpp:http:upload:0' filename='a.bin' size='10'/></iq>`))
		})
	}
	wg.Wait()
	slots := 0
	for _, st := range e.alice.Take() {
		if st.Type == "result" {
			slots++
		}
	}
	if slots != 5 {
		t.Fatalf("%d slots of 10 bytes under a 50-byte quota", slots)
	}
}
