package pep

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"parley/internal/im/imtest"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
)

// remoteRecorder is the router's Remote: what goes to other domains.
type remoteRecorder struct {
	mu   sync.Mutex // guards sent
	sent []*stanza.Stanza
}

func (r *remoteRecorder) Send(_ context.Context, st *stanza.Stanza) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, st)
	return nil
}

// take returns the notifications sent since the last take, "to node".
func (r *remoteRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, st := range r.sent {
		if ev := st.El.Child("event", NSEvent); ev != nil {
			out = append(out, st.To.String()+" "+ev.FirstChild().Get("node"))
		}
	}
	r.sent = nil
	return out
}

// TestRemoteContacts: XEP-0163 §4.3 for contacts on other servers. The
// service learns a remote session's caps from the presence it sends to
// the account (here caps already verified by a local session), sends it
// the last item and then notifications across the link; presence from a
// remote entity not subscribed to the account is not kept, a remote
// contact's resources are bounded, and unavailable presence ends its
// notifications.
func TestRemoteContacts(t *testing.T) {
	e := newEnv(t)
	remote := &remoteRecorder{}
	e.r.SetRemote(remote)
	for _, it := range []store.RosterItem{{JID: "dave@remote.net", Subscription: store.SubFrom}, {JID: "erin@remote.net", Subscription: store.SubTo}} {
		if _, err := e.rosters.PutRosterItem(context.Background(), "alice", it); err != nil {
			t.Fatal(err)
		}
	}
	query, c := caps("http://jabber.org/protocol/disco#info", devices+"+notify")
	a := e.bind(t, "alice@example.com/one")
	e.announceCaps(t, a, c, query)
	publish(t, e, a, devices, "1")

	from := func(full, typ string) {
		t.Helper()
		typAttr := ""
		if typ != "" {
			typAttr = " type='" + typ + "'"
		}
		e.r.Send(context.Background(), imtest.Parse(t, `<presence xmlns='jabber:client' from='`+full+`' to='alice@example.com'`+typAttr+`>`+c+`</presence>`))
	}
	from("dave@remote.net/phone", "")
	from("erin@remote.net/desk", "") // alice sees erin, erin does not see alice
	if got := remote.take(); strings.Join(got, ",") != "dave@remote.net/phone "+devices {
		t.Fatalf("last items sent across: %q", got)
	}
	publish(t, e, a, devices, "2")
	if got := remote.take(); strings.Join(got, ",") != "dave@remote.net/phone "+devices {
		t.Fatalf("notifications sent across: %q", got)
	}

	for i := range maxRemoteResources + 4 {
		from("dave@remote.net/r"+strconv.Itoa(i), "")
	}
	remote.take()
	e.m.interests.mu.Lock()
	kept := len(e.m.interests.remote[jid.MustParse("dave@remote.net")])
	e.m.interests.mu.Unlock()
	if kept != maxRemoteResources {
		t.Fatalf("dave's resources kept: %d, want %d", kept, maxRemoteResources)
	}
	from("dave@remote.net/phone", "unavailable")
	publish(t, e, a, devices, "3")
	got := remote.take()
	if len(got) != maxRemoteResources-1 || slices.Contains(got, "dave@remote.net/phone "+devices) {
		t.Fatalf("after phone left: %q", got)
	}
}
