package disco_test

import (
	"testing"
	"time"

	"parley/internal/entitycaps"
	"parley/internal/im/disco"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestServerCapsOverTCP: the server advertises its entity capabilities in
// the stream features after authentication (XEP-0115 §6.3); the ver is the SHA-1 verification string (§5.1) of the
// disco#info answer at node#ver (§6.2), which is the domain's answer.
func TestServerCapsOverTCP(t *testing.T) {
	srv := testserver.Start(t, nil)
	c := srv.OnlineUsers(t, "caps pass 1", "phone", "carol")[0]
	el := c.Features.Child("c", entitycaps.NS)
	if el == nil || el.Get("hash") != "sha-1" || el.Get("node") != disco.CapsNode || el.Get("ver") == "" {
		t.Fatalf("stream features after authentication: %s", c.Features)
	}
	node, ver := el.Get("node"), el.Get("ver")
	info := func(payload string) string {
		t.Helper()
		res, err := c.IQ(10*time.Second, "get", "localhost", payload)
		if err != nil || res.Get("type") != "result" {
			t.Fatalf("%s: %s %v", payload, res, err)
		}
		q := res.Child("query", disco.NSInfo)
		got, ok := entitycaps.Ver("sha-1", q)
		if !ok {
			t.Fatalf("ill-formed disco#info: %s", q)
		}
		return got
	}
	if got := info("<query xmlns='" + disco.NSInfo + "' node='" + node + "#" + ver + "'/>"); got != ver {
		t.Errorf("disco#info at node#ver hashes to %q, features say %q", got, ver)
	}
	if got := info("<query xmlns='" + disco.NSInfo + "'/>"); got != ver {
		t.Errorf("the domain's disco#info hashes to %q, features say %q", got, ver)
	}
	res, err := c.IQ(10*time.Second, "get", "localhost", "<query xmlns='"+disco.NSInfo+"' node='"+node+"#stale'/>")
	if err != nil || xmpptest.StanzaErrorCondition(res) != "item-not-found" {
		t.Errorf("a ver that is not the server's: %s %v", res, err)
	}
}
