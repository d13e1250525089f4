package blocking_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/im/blocking"
	"parley/internal/store"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const wait = 10 * time.Second

// TestSpamReportOverTCP (XEP-0377): alice blocks mallory with a spam
// report naming the message he sent her by its stanza-id; the server
// advertises reporting, blocks him, stores the report (as the admin API
// lists it), audits it and forwards it to the admin; his next message
// bounces.
func TestSpamReportOverTCP(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) {
		c.Admins = []string{"boss@localhost"}
		c.Abuse.ForwardReports = true
	})
	c := srv.OnlineUsers(t, "pw", "desk", "alice", "boss", "mallory")
	alice, boss, mallory := c[0], c[1], c[2]

	info, err := alice.IQ(wait, "get", "localhost", `<query xmlns='http://jabber.org/protocol/disco#info'/>`)
	if err != nil || !hasFeature(info, blocking.NSReporting) {
		t.Fatalf("disco#info lacks %s: %v %v", blocking.NSReporting, info, err)
	}

	if err := mallory.Send(`<message to='alice@localhost' type='chat' id='s1'><body>cheap pills</body></message>`); err != nil {
		t.Fatal(err)
	}
	spam, err := alice.Expect(wait, xmpptest.MessageBody("cheap pills"))
	if err != nil {
		t.Fatal(err)
	}
	var sid string
	for _, c := range spam.Children {
		if c.Name == "stanza-id" && c.Space == "urn:xmpp:sid:0" && c.Get("by") == "alice@localhost" {
			sid = c.Get("id")
		}
	}
	if sid == "" {
		t.Fatalf("the message has no stanza-id by alice: %s", spam)
	}

	res, err := alice.IQ(wait, "set", "", `<block xmlns='urn:xmpp:blocking'><item jid='mallory@localhost'>`+
		`<report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='`+sid+`'/>`+
		`<text xmlns='urn:xmpp:reporting:1'>sells pills</text></report></item></block>`)
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("block with report: %v %v", res, err)
	}

	fw, err := boss.Expect(wait, func(el *xmlstream.Element) bool {
		return el.Name == "message" && el.Child("report", blocking.NSReporting) != nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if body := fw.ChildText("body", ""); !strings.Contains(body, "alice@localhost reported mallory@localhost") ||
		!strings.Contains(body, "sells pills") || fw.Get("from") != "localhost" {
		t.Errorf("forwarded report: %s", fw)
	}

	ctx := context.Background()
	reports, err := srv.Store().AbuseReports(ctx, 0, 0)
	if err != nil || len(reports) != 1 {
		t.Fatalf("stored reports %+v, %v; want one", reports, err)
	}
	r := reports[0]
	if r.Reporter != "alice" || r.Reported != "mallory@localhost" || r.Reason != blocking.ReasonSpam || r.Text != "sells pills" ||
		len(r.StanzaIDs) != 1 || r.StanzaIDs[0] != (store.StanzaRef{By: "alice@localhost", ID: sid}) {
		t.Errorf("stored report %+v", r)
	}
	xmpptest.Eventually(t, wait, func() error {
		recs, err := audit.Query(ctx, srv.Store(), store.AuditQuery{})
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if rec.Action == audit.ActionAbuseReport {
				if rec.Actor != "alice@localhost" || rec.Target != "mallory@localhost" || rec.Details["report"] != fmt.Sprint(r.ID) {
					t.Fatalf("audit record %+v", rec)
				}
				return nil
			}
		}
		return fmt.Errorf("no %s record among %d", audit.ActionAbuseReport, len(recs))
	})

	// The block happened: mallory's next message bounces.
	if err := mallory.Send(`<message to='alice@localhost' type='chat' id='s2'><body>more pills</body></message>`); err != nil {
		t.Fatal(err)
	}
	bounce, err := mallory.Expect(wait, func(el *xmlstream.Element) bool { return el.Get("id") == "s2" })
	if err != nil || bounce.Get("type") != "error" || bounce.Child("error", "").Child("service-unavailable", "") == nil {
		t.Fatalf("mallory's message after the block: %v %v", bounce, err)
	}
}

// hasFeature reports whether a disco#info result lists the feature.
func hasFeature(res *xmlstream.Element, feature string) bool {
	q := res.FirstChild()
	if q == nil {
		return false
	}
	for _, c := range q.Children {
		if c.Name == "feature" && c.Get("var") == feature {
			return true
		}
	}
	return false
}
