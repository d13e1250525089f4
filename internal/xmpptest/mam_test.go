package xmpptest_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// TestQueryArchive: bob's archive, filtered to alice and read two at a
// time (XEP-0059 paging), holds her three messages in order, each with
// its archive id and delay, and <fin/> says when the last page came; a
// query the archive refuses is an error.
func TestQueryArchive(t *testing.T) {
	srv := testserver.Start(t, nil)
	cs := srv.OnlineUsers(t, "pw", "r", "alice", "bob")
	alice, bob := cs[0], cs[1]
	want := []string{"one", "two", "three"}
	for _, b := range want {
		xmpptest.MustSend(t, alice, "<message type='chat' to='bob@localhost'><body>"+b+"</body></message>")
		xmpptest.MustExpect(t, bob, wait, b, xmpptest.MessageBody(b))
	}
	with := xmpptest.MAMForm("<field var='with'><value>alice@localhost</value></field>")
	// The archive is written beside the delivery: wait for the last one.
	xmpptest.Eventually(t, wait, func() error {
		if a, err := bob.QueryArchive(wait, "", with); err != nil || len(a.Results) != len(want) {
			return fmt.Errorf("archived: %v %v", a, err)
		}
		return nil
	})

	first := xmpptest.MustQueryArchive(t, bob, wait, "", with+"<set xmlns='"+xmpptest.NSRSM+"'><max>2</max></set>")
	if first.Complete() || !slices.Equal(first.Bodies(), want[:2]) || first.RSM("last") != first.IDs()[1] {
		t.Fatalf("first page: %v %v complete=%v last=%q", first.Bodies(), first.IDs(), first.Complete(), first.RSM("last"))
	}
	rest := xmpptest.MustQueryArchive(t, bob, wait, "", with+"<set xmlns='"+xmpptest.NSRSM+"'><max>2</max><after>"+first.RSM("last")+"</after></set>")
	if !rest.Complete() || !slices.Equal(rest.Bodies(), want[2:]) {
		t.Fatalf("last page: %v complete=%v", rest.Bodies(), rest.Complete())
	}
	for _, r := range append(first.Results, rest.Results...) {
		if r.ID == "" || r.Delay == nil || !strings.HasPrefix(r.Message.Get("from"), "alice@localhost") {
			t.Errorf("result %q: delay %v, message %s", r.ID, r.Delay, r.Message)
		}
	}
	if msgs := rest.Messages(); len(msgs) != 1 || msgs[0] != rest.Results[0].Message {
		t.Errorf("Messages() = %v", msgs)
	}

	if a, err := bob.QueryArchive(wait, "", xmpptest.MAMForm("<field var='start'><value>not a time</value></field>")); err == nil {
		t.Errorf("a refused query answered %v", a)
	}
}
