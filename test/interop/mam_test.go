package interop

import "testing"

// TestSlixmppMAM runs slix_mam.py: slixmpp's XEP-0313 client pages
// through an archive forward and backward with RSM, checks count, fin and
// the #extended metadata.
func TestSlixmppMAM(t *testing.T) {
	runSlixmpp(t, "slix_mam.py")
}
