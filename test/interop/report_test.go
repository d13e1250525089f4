package interop

import (
	"regexp"
	"testing"

	"parley/internal/config"
)

// TestSlixmppSpamReportInAPI runs slix_report.py: slixmpp's alice blocks
// bob with a XEP-0377 spam report pointing at the stanza-id of bob's
// message; the admin API (GET /api/v1/abuse-reports over HTTPS, with a
// compliance token) lists that report with that stanza-id.
func TestSlixmppSpamReportInAPI(t *testing.T) {
	srv := startPair(t, func(c *config.Config) { c.Listen.HTTPS = "127.0.0.1:0" })
	out := runPair(t, srv, "slix_report.py")
	m := regexp.MustCompile(`stanza-id (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatal("slix_report.py printed no stanza-id")
	}
	sid := string(m[1])

	type report struct {
		Reporter, Reported, Reason, Text string
		StanzaIDs                        []struct{ By, ID string } `json:"stanza_ids"`
	}
	// The block is answered before its report is stored.
	r := complianceItems[report](t, complianceAPI(t, srv), "/api/v1/abuse-reports", 1)[0]
	if r.Reporter != "alice@localhost" || r.Reported != "bob@localhost" || r.Reason != "urn:xmpp:reporting:spam" ||
		r.Text != "unsolicited pills" || len(r.StanzaIDs) != 1 || r.StanzaIDs[0].ID != sid || r.StanzaIDs[0].By != "alice@localhost" {
		t.Errorf("listed %+v; want alice's spam report on bob pointing at stanza-id %s", r, sid)
	}
}
