package private_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestPrivateQuotaOverTCP: issue 10 item 8's attack (thousands of private
// XML keys) meets the per-account quota: keys beyond quotas.private_keys
// and bytes beyond quotas.private_bytes are refused with policy-violation
// and nothing of a refused set is stored, while replacing an element
// within the quota still works.
func TestPrivateQuotaOverTCP(t *testing.T) {
	const keys, bytes = 5, 2000
	srv := testserver.Start(t, func(c *config.Config) { c.Quotas.PrivateKeys, c.Quotas.PrivateBytes = keys, bytes })
	c := srv.OnlineUsers(t, "private pass 1", "flood", "mallory")[0]
	set := func(els ...string) string {
		t.Helper()
		res, err := c.IQ(10*time.Second, "set", "", `<query xmlns='jabber:iq:private'>`+strings.Join(els, "")+`</query>`)
		if err != nil {
			t.Fatal(err)
		}
		if res.Get("type") == "result" {
			return "ok"
		}
		return xmpptest.StanzaErrorCondition(res)
	}
	el := func(i, n int) string { // an element of about n bytes in namespace x:i
		return `<e xmlns='x:` + strconv.Itoa(i) + `'>` + strings.Repeat("y", n) + `</e>`
	}
	for i := range keys {
		if got := set(el(i, 10)); got != "ok" {
			t.Fatalf("key %d: %s", i, got)
		}
	}
	if got := set(el(keys, 10)); got != "policy-violation" {
		t.Fatalf("key beyond private_keys: %s", got)
	}
	if got := set(el(0, 1500)); got != "ok" {
		t.Fatalf("replacing within the quota: %s", got)
	}
	// Would pass private_keys but not private_bytes: nothing is stored.
	if got := set(el(1, 10), el(2, 600)); got != "policy-violation" {
		t.Fatalf("bytes beyond private_bytes: %s", got)
	}
	res, err := c.IQ(10*time.Second, "get", "", `<query xmlns='jabber:iq:private'><e xmlns='x:2'/></query>`)
	if err != nil || !strings.Contains(res.String(), strings.Repeat("y", 10)+"<") || strings.Contains(res.String(), strings.Repeat("y", 11)) {
		t.Fatalf("a refused set changed the data: %v %s", err, res)
	}
	if got := set(el(0, 10)); got != "ok" {
		t.Fatalf("shrinking: %s", got)
	}
}
