package interop

import "testing"

// TestSlixmppPEP runs slix_pep.py: slixmpp's entity capabilities must
// verify on the server (XEP-0115 §5), and a +notify in them must bring
// PEP notifications and the last published item on login (XEP-0163).
func TestSlixmppPEP(t *testing.T) {
	runSlixmpp(t, "slix_pep.py")
}

// TestSlixmppPubsubService runs slix_pubsub.py: slixmpp's XEP-0060
// plugin against pubsub.<domain> (discovery, create with configure,
// subscribe, publish, items, retract, subscriptions, purge, delete, with
// the subscriber notified of each).
func TestSlixmppPubsubService(t *testing.T) {
	runSlixmpp(t, "slix_pubsub.py")
}
