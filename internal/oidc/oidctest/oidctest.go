// Package oidctest starts a real, certified OpenID Connect provider (the
// npm package oidc-provider, testdata/provider) on loopback for tests,
// and drives its login and consent forms as a browser would.
package oidctest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Provider is a running oidc-provider.
type Provider struct {
	// Issuer is its issuer URL; OtherIssuer a second provider in the
	// same process with the same keys and clients.
	Issuer, OtherIssuer string
}

// Clients registered at both providers: ID "parley" and "other", each
// with the secret ID + "-secret".
const (
	ClientID     = "parley"
	ClientSecret = "parley-secret"
	OtherID      = "other"
	OtherSecret  = "other-secret"
)

// Start runs the provider with users (account id -> ID token claims) and
// the redirect URIs its clients accept, until the test ends. Without node
// and npm the test is skipped, or fails when CI=true. It runs `npm ci`
// first if node_modules is missing.
func Start(tb testing.TB, redirectURIs []string, users map[string]map[string]any) *Provider {
	tb.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = exec.LookPath("npm")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("oidc-provider needs node and npm: %v", err)
		}
		tb.Skipf("oidc-provider needs node and npm: %v", err)
	}
	dir := providerDir(tb)
	install(tb, dir)
	u, err := json.Marshal(users)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(node, "provider.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "REDIRECT_URIS="+strings.Join(redirectURIs, " "), "USERS="+string(u))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = &logWriter{tb: tb}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close() // the provider exits when its stdin ends
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		tb.Fatalf("oidc-provider did not start: %v", err)
	}
	var p struct {
		Issuer      string `json:"issuer"`
		OtherIssuer string `json:"other_issuer"`
	}
	if err := json.Unmarshal([]byte(line), &p); err != nil {
		tb.Fatalf("oidc-provider said %q: %v", line, err)
	}
	return &Provider{Issuer: p.Issuer, OtherIssuer: p.OtherIssuer}
}

// providerDir is testdata/provider beside this file.
func providerDir(tb testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("oidctest: no source path")
	}
	return filepath.Join(filepath.Dir(file), "testdata", "provider")
}

// install runs `npm ci` once (under a lock: the tests of several packages
// may start at the same time).
func install(tb testing.TB, dir string) {
	lock, err := os.OpenFile(filepath.Join(dir, ".install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")); err == nil {
		return
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
}

// Rotate makes the provider sign with a new key (the old ones stay in
// its JWKS) and returns the new key's id.
func (p *Provider) Rotate(tb testing.TB) string {
	tb.Helper()
	resp, err := http.Post(p.Issuer+"/__rotate", "", nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Kid string `json:"kid"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Kid == "" {
		tb.Fatalf("rotate: %v", err)
	}
	return r.Kid
}

// Browser is an HTTP client with cookies that stops at redirects to
// stop (the relying party's callback) instead of following them; rt nil
// is http.DefaultTransport.
func Browser(stop string, rt http.RoundTripper) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: rt, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), stop) {
			return http.ErrUseLastResponse
		}
		if len(via) > 20 {
			return fmt.Errorf("too many redirects")
		}
		return nil
	}}
}

var (
	formAction  = regexp.MustCompile(`<form[^>]*action="([^"]+)"[^>]*method="post"`)
	formPrompt  = regexp.MustCompile(`name="prompt" value="([a-z]+)"`)
	htmlEscapes = strings.NewReplacer("&amp;", "&", "&#x2F;", "/", "&#47;", "/", "&quot;", `"`)
)

// Authorize logs account in at the provider, from the authorization URL
// on (or a relying party's URL that redirects there), submitting its
// login and consent forms with browser (Browser(stop)),
// and returns the redirect to stop: the callback URL with code and state.
func Authorize(tb testing.TB, browser *http.Client, authURL, account, stop string) *url.URL {
	tb.Helper()
	resp, err := browser.Get(authURL)
	for range 5 {
		if err != nil {
			tb.Fatalf("authorize: %v", err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && strings.HasPrefix(loc, stop) {
			u, err := url.Parse(loc)
			if err != nil {
				tb.Fatal(err)
			}
			return u
		}
		action, prompt := formAction.FindSubmatch(body), formPrompt.FindSubmatch(body)
		if resp.StatusCode != 200 || action == nil || prompt == nil {
			tb.Fatalf("authorize: %s, no form: %s", resp.Status, body)
		}
		target, err := resp.Request.URL.Parse(htmlEscapes.Replace(string(action[1])))
		if err != nil {
			tb.Fatal(err)
		}
		form := url.Values{"prompt": {string(prompt[1])}}
		if string(prompt[1]) == "login" {
			form.Set("login", account)
			form.Set("password", "any")
		}
		resp, err = browser.PostForm(target.String(), form)
		if err != nil {
			tb.Fatalf("authorize: %v", err)
		}
	}
	tb.Fatalf("authorize: no redirect to %s after 5 forms", stop)
	return nil
}

type logWriter struct{ tb testing.TB }

func (w *logWriter) Write(p []byte) (int, error) {
	for l := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
		if !strings.Contains(l, "WARNING") {
			w.tb.Log("oidc-provider: " + l)
		}
	}
	return len(p), nil
}
