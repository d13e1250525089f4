package pep

import (
	"strconv"
	"testing"

	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// TestPublishOptions: XEP-0060 §7.1.5 publish-options applied to a new
// node (XEP-0163 §4.2 defaults underneath).
func TestPublishOptions(t *testing.T) {
	tests := []struct {
		fields string
		want   store.PEPNode
		cond   string // error condition, or ""
	}{
		0: {"", defaultNode("n"), ""},
		1: {field("pubsub#access_model", "whitelist") + field("pubsub#max_items", "max"),
			store.PEPNode{Node: "n", AccessModel: "whitelist", PersistItems: true, MaxItems: DefaultNodeItems}, ""},
		2: {field("pubsub#access_model", "open") + field("pubsub#persist_items", "0") + field("pubsub#max_items", "5"),
			store.PEPNode{Node: "n", AccessModel: "open", MaxItems: 5}, ""},
		3: {field("pubsub#access_model", "roster"), store.PEPNode{}, "not-acceptable"}, // never widened to presence
		4: {field("pubsub#max_items", "100000"), store.PEPNode{Node: "n", AccessModel: "presence", PersistItems: true, MaxItems: DefaultNodeItems}, ""},
		5: {field("pubsub#send_last_published_item", "never"), defaultNode("n"), ""},
		6: {field("pubsub#access_model", "authorize"), store.PEPNode{}, "not-acceptable"},
		7: {field("pubsub#max_items", "0"), store.PEPNode{}, "bad-request"},
		8: {field("pubsub#persist_items", "maybe"), store.PEPNode{}, "bad-request"},
		9: {field("FORM_TYPE", "urn:example"), store.PEPNode{}, "bad-request"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			el, err := xmlstream.Parse([]byte("<x xmlns='jabber:x:data' type='submit'>"+
				field("FORM_TYPE", NSPublishOptions)+tc.fields+"</x>"), xmlstream.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			n := defaultNode("n")
			err = applyForm(&n, el, NSPublishOptions, DefaultNodeItems)
			if tc.cond != "" {
				se, ok := err.(*stanza.Error)
				if !ok || se.Condition() != tc.cond {
					t.Fatalf("error %v, want %s", err, tc.cond)
				}
				return
			}
			if err != nil || n != tc.want {
				t.Fatalf("got %+v %v, want %+v", n, err, tc.want)
			}
		})
	}
}

func field(v, val string) string {
	return "<field var='" + v + "'><value>" + val + "</value></field>"
}
