package hints

import (
	"testing"

	"parley/internal/xmlstream"
)

func TestStorage(t *testing.T) {
	for _, tc := range []struct {
		hints          string
		store, noStore bool
	}{
		{"", false, false},
		{"<store xmlns='urn:xmpp:hints'/>", true, false},
		{"<no-store xmlns='urn:xmpp:hints'/>", false, true},
		{"<no-permanent-store xmlns='urn:xmpp:hints'/>", false, true},
		// no-store wins over store, whichever comes first (XEP-0334 §4.2-4.4).
		{"<store xmlns='urn:xmpp:hints'/><no-store xmlns='urn:xmpp:hints'/>", false, true},
		{"<no-store xmlns='urn:xmpp:hints'/><store xmlns='urn:xmpp:hints'/>", false, true},
		// Another namespace's element of the same name is no hint.
		{"<store xmlns='urn:example'/><no-store xmlns='urn:example'/>", false, false},
		{"<no-copy xmlns='urn:xmpp:hints'/>", false, false},
	} {
		msg, err := xmlstream.Parse([]byte("<message xmlns='jabber:client'><body>hi</body>"+tc.hints+"</message>"), xmlstream.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if store, noStore := Storage(msg); store != tc.store || noStore != tc.noStore {
			t.Errorf("%s: Storage = %v, %v, want %v, %v", tc.hints, store, noStore, tc.store, tc.noStore)
		}
	}
}
