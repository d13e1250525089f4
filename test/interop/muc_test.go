package interop

import "testing"

// TestSlixmppMUC runs slix_muc.py: a slixmpp user creates an instant room
// (XEP-0045 §10.1.2), another joins with history on join, both talk.
func TestSlixmppMUC(t *testing.T) {
	runSlixmpp(t, "slix_muc.py", "coven@conference.localhost")
}

// TestSlixmppModerationV0 runs slix_moderate.py: slixmpp 1.8's XEP-0425
// plugin (the v0.2 request, fastened) moderates a message, and both
// slixmpp clients recognise the room's retraction.
func TestSlixmppModerationV0(t *testing.T) {
	runSlixmpp(t, "slix_moderate.py", "heath@conference.localhost")
}

// TestSlixmppRoomAvatar runs slix_muc_avatar.py: slixmpp's XEP-0153
// plugin sets a room's avatar (XEP-0486) as its owner, and another
// occupant's plugins see the room's photo hash and read the image back.
func TestSlixmppRoomAvatar(t *testing.T) {
	runSlixmpp(t, "slix_muc_avatar.py", "witches@conference.localhost")
}
