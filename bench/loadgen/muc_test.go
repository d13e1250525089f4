package loadgen

import (
	"strconv"
	"testing"
)

func TestParseMUCBody(t *testing.T) {
	tests := []struct {
		body        string
		sender, seq uint64
		ts          int64
		ok          bool
	}{
		0: {"0 0 0", 0, 0, 0, true},
		1: {"4 1234 987654321", 4, 1234, 987654321, true},
		2: {"4 1234", 0, 0, 0, false},
		3: {"4", 0, 0, 0, false},
		4: {"", 0, 0, 0, false},
		5: {"a 1 2", 0, 0, 0, false},
		6: {"1 2 3 4", 0, 0, 0, false},
		7: {"1  3", 0, 0, 0, false},
		8: {"-1 2 3", 0, 0, 0, false},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s, q, ts, ok := parseMUCBody([]byte(tc.body))
			if ok != tc.ok || s != tc.sender || q != tc.seq || ts != tc.ts {
				t.Errorf("parseMUCBody(%q) = %d %d %d %v, want %d %d %d %v", tc.body, s, q, ts, ok, tc.sender, tc.seq, tc.ts, tc.ok)
			}
		})
	}
}

// The self-presence is recognised in the forms the three servers write.
func TestMUCPresence(t *testing.T) {
	const prefix = "bench@conference.localhost/"
	tests := []struct {
		el      string
		joined  bool
		created bool
		err     bool
		others  int64
	}{
		0: {el: `<presence from='bench@conference.localhost/o1' to='a@localhost/r'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/><status code='110'/><status code='201'/></x></presence>`, joined: true, created: true},
		1: {el: `<presence to="a@localhost/r" from="bench@conference.localhost/o1"><x xmlns="http://jabber.org/protocol/muc#user"><status code="110"/></x></presence>`, joined: true},
		2: {el: `<presence from='bench@conference.localhost/o1' type='error'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`, err: true},
		3: {el: `<presence from='bench@conference.localhost/o7'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='participant'/></x></presence>`, others: 1},
		4: {el: `<presence from='bench@conference.localhost/o7' type='unavailable'/>`},
		5: {el: `<presence from='other@conference.localhost/o7'/>`},
		6: {el: `<presence from='bench@conference.localhost/o99'/>`}, // beyond the room's size
		7: {el: `<presence from='bench@conference.localhost/o1'/>`},  // no status 110
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			o := &mucOccupant{idx: 1, nick: "o1", joinDone: make(chan error, 1), seen: make([]uint64, 1)}
			o.presence([]byte(tc.el), prefix)
			var joined, failed bool
			select {
			case err := <-o.joinDone:
				joined, failed = err == nil, err != nil
			default:
			}
			if joined != tc.joined || failed != tc.err || o.created.Load() != tc.created || o.others.Load() != tc.others {
				t.Errorf("joined %v, error %v, created %v, others %d; want %v %v %v %d",
					joined, failed, o.created.Load(), o.others.Load(), tc.joined, tc.err, tc.created, tc.others)
			}
		})
	}
}
