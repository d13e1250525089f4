package interop

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestSlixmppSpamReportInAPI runs slix_report.py: slixmpp's alice blocks
// bob with a XEP-0377 spam report pointing at the stanza-id of bob's
// message; the admin API (GET /api/v1/abuse-reports over HTTPS, with a
// compliance token) lists that report with that stanza-id.
func TestSlixmppSpamReportInAPI(t *testing.T) {
	requireSlixmpp(t)
	srv := testserver.Start(t, func(c *config.Config) { c.Listen.HTTPS = "127.0.0.1:0" })
	srv.AddUser(t, "alice", password)
	srv.AddUser(t, "bob", password)
	host, port := hostPort(t, srv.C2S())
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "slix_report.py", host, port, "alice@localhost", password, "bob@localhost", password).CombinedOutput()
	t.Logf("slix_report.py:\n%s", out)
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("slix_report.py failed (%v):\n%s", err, out)
	}
	m := regexp.MustCompile(`stanza-id (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatal("slix_report.py printed no stanza-id")
	}
	sid := string(m[1])

	ops := &control.Ops{Domain: srv.Router().Domain(), Users: srv.Store(), Tokens: srv.Store()}
	token, _, err := ops.CreateToken(ctx, control.RoleCompliance, "interop", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(filepath.Join(srv.Config.Data, "tls", "localhost.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	defer hc.CloseIdleConnections()
	type report struct {
		Reporter, Reported, Reason, Text string
		StanzaIDs                        []struct{ By, ID string } `json:"stanza_ids"`
	}
	var items []report
	// The block is answered before its report is stored.
	xmpptest.Eventually(t, 10*time.Second, func() error {
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+srv.HTTPS()+"/api/v1/abuse-reports", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var page struct {
			Items []report `json:"items"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != 200 {
			return fmt.Errorf("GET /api/v1/abuse-reports: %d, %v", resp.StatusCode, err)
		}
		if items = page.Items; len(items) != 1 {
			return fmt.Errorf("%d reports listed, want 1: %+v", len(items), items)
		}
		return nil
	})
	r := items[0]
	if r.Reporter != "alice@localhost" || r.Reported != "bob@localhost" || r.Reason != "urn:xmpp:reporting:spam" ||
		r.Text != "unsolicited pills" || len(r.StanzaIDs) != 1 || r.StanzaIDs[0].ID != sid || r.StanzaIDs[0].By != "alice@localhost" {
		t.Errorf("listed %+v; want alice's spam report on bob pointing at stanza-id %s", r, sid)
	}
}
