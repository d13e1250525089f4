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
	"slices"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/dlp"
	"parley/internal/store"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestSlixmppDLP runs slix_dlp.py against a server with three policies
// (block cards, redact IBANs, flag a keyword), on each store backend:
// slixmpp sees the block (policy-violation), the redaction (the
// recipient's text and the sender's notice) and the flagged delivery;
// the archives hold the redacted text and never the card number; the
// three incidents are in the review queue of the admin API.
func TestSlixmppDLP(t *testing.T) {
	requireSlixmpp(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			srv := testserver.Start(t, func(c *config.Config) {
				c.Listen.HTTPS = "127.0.0.1:0"
				if backend == "postgres" {
					c.Store = testserver.FreshPostgres(t)
				}
				c.DLP.Policies = []dlp.Policy{
					{Name: "cards", Action: dlp.Block, Builtins: []string{dlp.Card}},
					{Name: "ibans", Action: dlp.Redact, Builtins: []string{dlp.IBAN}},
					{Name: "falcon", Action: dlp.Flag, Keywords: []string{"project falcon"}},
				}
			})
			srv.AddUser(t, "alice", password)
			srv.AddUser(t, "bob", password)
			host, port := hostPort(t, srv.C2S())
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, python, "slix_dlp.py", host, port, "alice@localhost", password, "bob@localhost", password).CombinedOutput()
			t.Logf("slix_dlp.py:\n%s", out)
			if err != nil || !strings.Contains(string(out), "PASS") {
				t.Fatalf("slix_dlp.py failed (%v):\n%s", err, out)
			}

			// The archives: the redacted text on both sides, no card.
			st := srv.Store()
			if err := st.SyncArchive(ctx); err != nil {
				t.Fatal(err)
			}
			for _, owner := range []string{"alice", "bob"} {
				page, err := st.QueryArchive(ctx, owner, store.ArchiveQuery{Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				var all strings.Builder
				for _, m := range page.Messages {
					all.Write(m.Stanza)
				}
				if s := all.String(); !strings.Contains(s, "wire it to [redacted] today") || strings.Contains(s, "DE89") ||
					strings.Contains(s, "4111") || !strings.Contains(s, "project falcon") {
					t.Errorf("%s's archive: %s", owner, s)
				}
			}

			// The review queue, through the API with a compliance token.
			ops := &control.Ops{Domain: srv.Router().Domain(), Users: st, Tokens: st}
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
			get := func(path string, v any) error {
				req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+srv.HTTPS()+path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := hc.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				if resp.StatusCode != 200 {
					return fmt.Errorf("GET %s: %d", path, resp.StatusCode)
				}
				return json.NewDecoder(resp.Body).Decode(v)
			}
			type incident struct {
				ID       int64
				Action   string
				Policies []string
				Sender   string
				Target   string
				Stanza   string
			}
			var page struct{ Items []incident }
			xmpptest.Eventually(t, 10*time.Second, func() error {
				if err := get("/api/v1/incidents?source=dlp", &page); err != nil {
					return err
				}
				if len(page.Items) != 3 {
					return fmt.Errorf("%d incidents, want 3: %+v", len(page.Items), page.Items)
				}
				return nil
			})
			var got []string
			for _, in := range page.Items {
				got = append(got, in.Action+":"+strings.Join(in.Policies, ","))
				if !strings.HasPrefix(in.Sender, "alice@localhost/") || in.Target != "bob@localhost" {
					t.Errorf("incident %+v: want from alice to bob", in)
				}
			}
			if want := []string{"block:cards", "redact:ibans", "flag:falcon"}; !slices.Equal(got, want) {
				t.Errorf("incidents %v, want %v", got, want)
			}
			var blocked incident
			if err := get(fmt.Sprintf("/api/v1/incidents/%d", page.Items[0].ID), &blocked); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(blocked.Stanza, "4111 1111 1111 1111") {
				t.Errorf("the blocked incident keeps %q, want the original message", blocked.Stanza)
			}
		})
	}
}
