package interop

import "testing"

// TestSlixmppMUC runs slix_muc.py: a slixmpp user creates an instant room
// (XEP-0045 §10.1.2), another joins with history on join, both talk.
func TestSlixmppMUC(t *testing.T) {
	runSlixmpp(t, "slix_muc.py", "coven@conference.localhost")
}
