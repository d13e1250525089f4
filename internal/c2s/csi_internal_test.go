package c2s

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"parley/internal/xmpptest"
)

// TestClassify lists what an inactive session does with each stanza
// (XEP-0352).
func TestClassify(t *testing.T) {
	tests := []struct {
		raw  string
		want csiClass
		key  string
	}{
		0:  {"<presence from='c@x/a'/>", csiHold, "c@x/a"},
		1:  {"<presence from='c@x/a' type='unavailable'/>", csiHold, "c@x/a"},
		2:  {"<presence from='c@x' type='subscribe'/>", csiUrgent, ""},
		3:  {"<message from='c@x/a' type='chat'><body>hi</body></message>", csiUrgent, ""},
		4:  {"<message from='c@x/a' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/><stanza-id xmlns='urn:xmpp:sid:0' id='1' by='a@x'/></message>", csiDrop, ""},
		5:  {"<message from='c@x/a' type='chat'><received xmlns='urn:xmpp:receipts' id='1'/></message>", csiHold, ""},
		6:  {"<message from='c@x/a' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/><body>x</body></message>", csiUrgent, ""},
		7:  {"<message from='r@muc.x/n' type='groupchat'><body>hello all</body></message>", csiHold, ""},
		14: {"<message from='r@muc.x/n' type='groupchat'><body>Alice, hello</body></message>", csiUrgent, ""},
		15: {"<message from='other@muc.x/n' type='groupchat'><body>hello all</body></message>", csiUrgent, ""}, // nick unknown
		16: {"<message from='r@muc.x/n' type='groupchat'><subject>news</subject></message>", csiHold, ""},
		8:  {"<message from='c@x/a'><propose xmlns='urn:xmpp:jingle-message:0' id='call'/></message>", csiUrgent, ""},
		9:  {"<iq from='c@x/a' type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>", csiUrgent, ""},
		10: {"<message from='a@x'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='c@x/a'><body>hi</body></message></forwarded></received></message>", csiUrgent, ""},
		11: {"<message from='a@x'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' to='c@x/a'><body>hi</body></message></forwarded></sent></message>", csiHold, ""},
		12: {"<message from='a@x' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'/></message>", csiHold, ""},
		13: {"<message from='c@x/a' type='error'><error type='cancel'/></message>", csiUrgent, ""},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			if got, key := classify([]byte(tc.raw), map[string]string{"r@muc.x": "alice"}); got != tc.want || key != tc.key {
				t.Fatalf("classify = %v %q, want %v %q", got, key, tc.want, tc.key)
			}
		})
	}
}

// counter is an outbox's connection: it counts writes (each one a wakeup
// of the client) and bytes.
type counter struct {
	mu     sync.Mutex
	writes int
	bytes  int
}

func (c *counter) write(bufs [][]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	for _, b := range bufs {
		c.bytes += len(b)
	}
	return nil
}

func (c *counter) read() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes, c.bytes
}

func newTestOutbox(c *counter) *outbox {
	return &outbox{max: 4 << 20, now: time.Now, write: c.write, done: func(error) {}, csi: csiState{max: DefaultCSIContacts}}
}

// busyRoster sends, for each of rounds rounds, a presence change from each
// of contacts contacts, as they arrive over time on a busy roster: one at
// a time, each written before the next arrives unless held.
func busyRoster(t *testing.T, o *outbox, contacts, rounds int) {
	t.Helper()
	shows := []string{"away", "xa", "dnd", "chat", ""}
	for r := range rounds {
		for c := range contacts {
			b := fmt.Sprintf("<presence from='contact%03d@example.com/laptop' to='alice@example.com/phone'><show>%s</show>"+
				"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://example.org' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/></presence>",
				c, shows[r%len(shows)])
			if err := o.send([]byte(b), true); err != nil {
				t.Fatal(err)
			}
			xmpptest.Eventually(t, 5*time.Second, func() error {
				if !o.idle() {
					return errors.New("still writing")
				}
				return nil
			})
		}
	}
}

// TestCSISavesWakeups measures XEP-0352 on a busy roster: 200 contacts
// change presence 5 times each while the phone is inactive. Active, every
// change is a write (a wakeup of the phone's radio and CPU); inactive,
// nothing is written until a message arrives, and then one write carries
// the latest presence of each contact before the message.
func TestCSISavesWakeups(t *testing.T) {
	const contacts, rounds = 200, 5
	message := []byte("<message from='bob@example.com/x' to='alice@example.com/phone' type='chat'><body>lunch?</body></message>")

	var active counter
	o := newTestOutbox(&active)
	o.enableSM()
	busyRoster(t, o, contacts, rounds)
	o.send(message, true)
	xmpptest.Eventually(t, 5*time.Second, func() error {
		if w, _ := active.read(); w != contacts*rounds+1 {
			return fmt.Errorf("%d writes", w)
		}
		return nil
	})

	var inactive counter
	o = newTestOutbox(&inactive)
	o.enableSM()
	if err := o.setInactive(true); err != nil {
		t.Fatal(err)
	}
	busyRoster(t, o, contacts, rounds)
	if w, b := inactive.read(); w != 0 || b != 0 {
		t.Fatalf("inactive: %d writes, %d bytes before the message", w, b)
	}
	o.send(message, true)
	xmpptest.Eventually(t, 5*time.Second, func() error {
		if w, _ := inactive.read(); w != 1 {
			return fmt.Errorf("%d writes", w)
		}
		return nil
	})
	o.mu.Lock()
	sent := len(o.unacked)
	o.mu.Unlock()
	if sent != contacts+1 {
		t.Fatalf("%d stanzas sent, want the %d latest presences and the message", sent, contacts+1)
	}
	aw, ab := active.read()
	iw, ib := inactive.read()
	t.Logf("busy roster (%d contacts × %d changes, then a message): active %d writes, %d bytes; inactive %d writes, %d bytes (%.1f%% of the bytes, %d fewer wakeups)",
		contacts, rounds, aw, ab, iw, ib, 100*float64(ib)/float64(ab), aw-iw)
	if ib*rounds > ab+ab/10 {
		t.Errorf("inactive wrote %d bytes, active %d: want about 1/%d", ib, ab, rounds)
	}
}

// TestCSIBounded: past the contacts bound, everything held is flushed.
func TestCSIBounded(t *testing.T) {
	var c counter
	o := newTestOutbox(&c)
	o.csi.max = 3
	o.setInactive(true)
	for i := range 4 {
		o.send([]byte(fmt.Sprintf("<presence from='c%d@x/a'/>", i)), true)
	}
	xmpptest.Eventually(t, 5*time.Second, func() error {
		if w, b := c.read(); w == 0 || b != 4*len("<presence from='c0@x/a'/>") {
			return fmt.Errorf("%d writes, %d bytes", w, b)
		}
		return nil
	})
}

// TestCSIHeldKeptOnDetach: a lost connection moves what was held to the
// unacknowledged stanzas (XEP-0198 resends them after a resumption, or
// they go to offline storage), and the session ending hands them over.
func TestCSIHeldKeptOnDetach(t *testing.T) {
	var c counter
	o := newTestOutbox(&c)
	o.enableSM()
	o.setInactive(true)
	o.send([]byte("<presence from='c@x/a'/>"), true)
	o.send([]byte("<message from='c@x/a'><received xmlns='urn:xmpp:receipts' id='1'/></message>"), true)
	o.detach()
	if len(o.unacked) != 2 || o.sent != 2 {
		t.Fatalf("after detach: %d unacked, sent %d; want both held stanzas", len(o.unacked), o.sent)
	}
	if u := o.takeUnacked(); len(u) != 2 {
		t.Fatalf("taken %d, want 2", len(u))
	}

	o = newTestOutbox(&c) // without stream management: handed over at the end
	o.setInactive(true)
	o.send([]byte("<message from='c@x/a'><received xmlns='urn:xmpp:receipts' id='1'/></message>"), true)
	if u := o.takeUnacked(); len(u) != 1 {
		t.Fatalf("taken %d, want the held receipt", len(u))
	}
}
