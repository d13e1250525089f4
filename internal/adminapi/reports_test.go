package adminapi_test

import (
	"fmt"
	"strings"
	"testing"

	"parley/internal/control"
	"parley/internal/store"
	"parley/internal/xmpptest"
)

// TestAbuseReportsListed: reports a client files with a block (XEP-0377)
// are listed by GET /abuse-reports, oldest first, with the stanza ids it
// pointed at, paged by cursor; a bad cursor is a 400 problem.
func TestAbuseReportsListed(t *testing.T) {
	e := start(t)
	e.srv.AddUser(t, "alice", "pw-alice")
	alice := e.srv.Online(t, "alice", "pw-alice", "r1")
	for i := range 3 {
		_, err := alice.IQ(wait, "set", "", fmt.Sprintf(`<block xmlns='urn:xmpp:blocking'><item jid='spammer%d@example.net'>`+
			`<report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'>`+
			`<stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='sid-%d'/>`+
			`<text xmlns='urn:xmpp:reporting:1'>pills %d</text></report></item></block>`, i, i, i))
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
	}
	// The block is answered before its reports are stored.
	xmpptest.Eventually(t, wait, func() error {
		if list, err := e.srv.Store().AbuseReports(t.Context(), 0, 0); err != nil || len(list) != 3 {
			return fmt.Errorf("%d reports stored (%v), want 3", len(list), err)
		}
		return nil
	})
	type page struct {
		Items []struct {
			ID        int64             `json:"id"`
			Reporter  string            `json:"reporter"`
			Reported  string            `json:"reported"`
			Reason    string            `json:"reason"`
			Text      string            `json:"text"`
			StanzaIDs []store.StanzaRef `json:"stanza_ids"`
		} `json:"items"`
		Next string `json:"next"`
	}
	var got []string
	path := "/api/v1/abuse-reports?limit=2"
	for pages := 0; path != ""; pages++ {
		if pages == 3 {
			t.Fatal("more than 2 pages of 2 for 3 reports")
		}
		resp, body := e.do(t, e.tokens[control.RoleCompliance], "GET", path, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		p := decode[page](t, body)
		for _, r := range p.Items {
			if r.Reporter != "alice@localhost" || r.Reason != "urn:xmpp:reporting:spam" || len(r.StanzaIDs) != 1 || r.StanzaIDs[0].By != "alice@localhost" {
				t.Errorf("report %+v", r)
				continue
			}
			got = append(got, r.Reported+" "+r.StanzaIDs[0].ID+" "+r.Text)
		}
		path = ""
		if p.Next != "" {
			path = "/api/v1/abuse-reports?limit=2&cursor=" + p.Next
		}
	}
	want := "spammer0@example.net sid-0 pills 0|spammer1@example.net sid-1 pills 1|spammer2@example.net sid-2 pills 2"
	if strings.Join(got, "|") != want {
		t.Errorf("listed %q, want %q", got, want)
	}
	if resp, body := e.do(t, e.tokens[control.RoleHelpdesk], "GET", "/api/v1/abuse-reports?cursor=c1.!!", ""); resp.StatusCode != 400 {
		t.Errorf("bad cursor: %d %s", resp.StatusCode, body)
	}
}
