package adhoc_test

import (
	"testing"
	"time"

	"parley/internal/im/adhoc"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const (
	wait    = 10 * time.Second
	nsInfo  = "http://jabber.org/protocol/disco#info"
	nsItems = "http://jabber.org/protocol/disco#items"
)

// TestDiscoveryOverTCP: a client finds the commands feature in the
// server's disco#info (XEP-0050 §2.1), the command list node (§2.2) and
// its identity, and executing a node that does not exist is
// item-not-found (§4.6).
func TestDiscoveryOverTCP(t *testing.T) {
	srv := testserver.Start(t, nil)
	c := srv.OnlineUsers(t, "adhoc pass 1", "desk", "ann")[0]

	res, err := c.IQ(wait, "get", "localhost", `<query xmlns='`+nsInfo+`'/>`)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range res.FirstChild().Children {
		found = found || f.Name == "feature" && f.Get("var") == adhoc.NS
	}
	if !found {
		t.Fatalf("no commands feature: %s", res)
	}
	res, err = c.IQ(wait, "get", "localhost", `<query xmlns='`+nsItems+`' node='`+adhoc.NS+`'/>`)
	if err != nil || res.Get("type") != "result" || res.FirstChild().Get("node") != adhoc.NS {
		t.Fatalf("command list: %s %v", res, err)
	}
	res, err = c.IQ(wait, "get", "localhost", `<query xmlns='`+nsInfo+`' node='`+adhoc.NS+`'/>`)
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("command list info: %s %v", res, err)
	}
	if id := res.FirstChild().Child("identity", nsInfo); id == nil || id.Get("category") != "automation" || id.Get("type") != "command-list" {
		t.Fatalf("command list identity: %s", res)
	}
	res, err = c.IQ(wait, "set", "localhost", `<command xmlns='`+adhoc.NS+`' node='no-such-command' action='execute'/>`)
	if err != nil || xmpptest.StanzaErrorCondition(res) != "item-not-found" {
		t.Fatalf("unknown command: %s %v", res, err)
	}
	res, err = c.IQ(wait, "get", "localhost", `<query xmlns='`+nsInfo+`' node='no-such-command'/>`)
	if err != nil || xmpptest.StanzaErrorCondition(res) != "item-not-found" {
		t.Fatalf("unknown node info: %s %v", res, err)
	}
}
