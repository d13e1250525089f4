// Package hints reads XEP-0334 message processing hints, which the
// archive (internal/im/mam), offline storage (internal/im/offline) and
// carbons (internal/im/carbons) obey.
package hints

import "parley/internal/xmlstream"

// NS is the XEP-0334 namespace.
const NS = "urn:xmpp:hints"

// Storage tells what msg's hints say of storing it: store when it
// carries <store/> (§4.4: keep it even when it holds nothing the server
// would keep otherwise), noStore when it carries <no-store/> or
// <no-permanent-store/> (§4.2, §4.3), which win over <store/>.
func Storage(msg *xmlstream.Element) (store, noStore bool) {
	for _, c := range msg.Children {
		if c.Space != NS {
			continue
		}
		switch c.Name {
		case "no-store", "no-permanent-store":
			return false, true
		case "store":
			store = true
		}
	}
	return store, false
}
