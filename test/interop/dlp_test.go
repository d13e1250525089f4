package interop

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"parley/internal/config"
	"parley/internal/dlp"
	"parley/internal/store"
	"parley/internal/xmpptest/testserver"
)

// TestSlixmppDLP runs slix_dlp.py against a server with three policies
// (block cards, redact IBANs, flag a keyword), on each store backend:
// slixmpp sees the block (policy-violation), the redaction (the
// recipient's text and the sender's notice) and the flagged delivery;
// the archives hold the redacted text and never the card number; the
// three incidents are in the review queue of the admin API.
func TestSlixmppDLP(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			srv := startPair(t, func(c *config.Config) {
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
			runPair(t, srv, "slix_dlp.py")
			ctx := t.Context()

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
			get := complianceAPI(t, srv)
			type incident struct {
				ID       int64
				Action   string
				Policies []string
				Sender   string
				Target   string
				Stanza   string
			}
			incidents := complianceItems[incident](t, get, "/api/v1/incidents?source=dlp", 3)
			var got []string
			for _, in := range incidents {
				got = append(got, in.Action+":"+strings.Join(in.Policies, ","))
				if !strings.HasPrefix(in.Sender, "alice@localhost/") || in.Target != "bob@localhost" {
					t.Errorf("incident %+v: want from alice to bob", in)
				}
			}
			if want := []string{"block:cards", "redact:ibans", "flag:falcon"}; !slices.Equal(got, want) {
				t.Errorf("incidents %v, want %v", got, want)
			}
			var blocked incident
			if err := get(fmt.Sprintf("/api/v1/incidents/%d", incidents[0].ID), &blocked); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(blocked.Stanza, "4111 1111 1111 1111") {
				t.Errorf("the blocked incident keeps %q, want the original message", blocked.Stanza)
			}
		})
	}
}
