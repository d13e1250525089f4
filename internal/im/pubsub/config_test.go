package pubsub

import (
	"strconv"
	"testing"

	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

const maxItems = 1000

func pepDefault() Config { return Config{AccessModel: AccessPresence, PersistItems: true, MaxItems: 1} }

// TestApply: XEP-0060 §7.1.5 publish-options and §8.2.4 node_config
// forms applied to a configuration (XEP-0163 §4.2 defaults underneath).
func TestApply(t *testing.T) {
	tests := []struct {
		fields string
		want   Config
		cond   string // error condition, or ""
	}{
		0: {"", pepDefault(), ""},
		1: {field("pubsub#access_model", "whitelist") + field("pubsub#max_items", "max"),
			Config{AccessModel: "whitelist", PersistItems: true, MaxItems: maxItems}, ""},
		2: {field("pubsub#access_model", "open") + field("pubsub#persist_items", "0") + field("pubsub#max_items", "5"),
			Config{AccessModel: "open", MaxItems: 5}, ""},
		// §4.5 roster: groups sorted, unique, empty values dropped.
		3: {field("pubsub#access_model", "roster") + "<field var='pubsub#roster_groups_allowed'><value>Friends</value><value>Family</value><value>Friends</value><value></value></field>",
			Config{AccessModel: "roster", RosterGroups: []string{"Family", "Friends"}, PersistItems: true, MaxItems: 1}, ""},
		4:  {field("pubsub#max_items", "100000"), Config{AccessModel: "presence", PersistItems: true, MaxItems: maxItems}, ""},
		5:  {field("pubsub#send_last_published_item", "never"), pepDefault(), ""},
		6:  {field("pubsub#access_model", "authorize"), Config{AccessModel: "authorize", PersistItems: true, MaxItems: 1}, ""},
		7:  {field("pubsub#max_items", "0"), Config{}, "bad-request"},
		8:  {field("pubsub#persist_items", "maybe"), Config{}, "bad-request"},
		9:  {field("FORM_TYPE", "urn:example"), Config{}, "bad-request"},
		10: {field("pubsub#access_model", "secret"), Config{}, "not-acceptable"},
		11: {field("pubsub#publish_model", "open") + field("pubsub#title", "Princely Musings"),
			Config{AccessModel: "presence", PersistItems: true, MaxItems: 1, PublishModel: "open", Title: "Princely Musings"}, ""},
		12: {field("pubsub#publish_model", "publishers"), pepDefault(), ""}, // the default, said
		13: {field("pubsub#publish_model", "anyone"), Config{}, "not-acceptable"},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			el, err := xmlstream.Parse([]byte("<x xmlns='jabber:x:data' type='submit'>"+
				field("FORM_TYPE", NSPublishOptions)+tc.fields+"</x>"), xmlstream.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			c := pepDefault()
			err = c.Apply(el, NSPublishOptions, maxItems)
			if tc.cond != "" {
				se, ok := err.(*stanza.Error)
				if !ok || se.Condition() != tc.cond {
					t.Fatalf("error %v, want %s", err, tc.cond)
				}
				return
			}
			if err != nil || !c.Equal(tc.want) {
				t.Fatalf("got %+v %v, want %+v", c, err, tc.want)
			}
		})
	}
}

// TestConfigRoundTrip: the stored form and the data form give back the
// configuration.
func TestConfigRoundTrip(t *testing.T) {
	c := Config{AccessModel: AccessRoster, RosterGroups: []string{"A", "B"}, PersistItems: true, MaxItems: 7,
		PublishModel: PublishOpen, Title: "T"}
	var back Config
	if err := back.Unmarshal(c.Marshal()); err != nil || !back.Equal(c) {
		t.Fatalf("stored: %+v %v", back, err)
	}
	x := c.Form("submit")
	back = Config{}
	if err := back.Apply(x, NSNodeConfig, maxItems); err != nil || !back.Equal(c) {
		t.Fatalf("form: %+v %v\n%s", back, err, x)
	}
}

// TestAccess: §4.5 access models for a requester who is not an owner,
// with the errors of §6.1.3 and §6.5.9.
func TestAccess(t *testing.T) {
	friend := Contact{Found: true, Item: store.RosterItem{Subscription: store.SubBoth, Groups: []string{"Friends"}}}
	other := Contact{Found: true, Item: store.RosterItem{Subscription: store.SubFrom, Groups: []string{"Work"}}}
	to := Contact{Found: true, Item: store.RosterItem{Subscription: store.SubTo, Groups: []string{"Friends"}}}
	hidden := Contact{Found: true, Item: store.RosterItem{Subscription: store.SubNone, Groups: []string{"Friends"}, Hidden: true}}
	roster := Config{AccessModel: AccessRoster, RosterGroups: []string{"Family", "Friends"}}
	tests := []struct {
		c    Config
		aff  string
		who  Contact
		cond string
	}{
		0:  {Config{AccessModel: AccessOpen}, "none", Contact{}, ""},
		1:  {Config{AccessModel: AccessOpen}, "outcast", friend, "forbidden"},
		2:  {Config{AccessModel: AccessPresence}, "none", friend, ""},
		3:  {Config{AccessModel: AccessPresence}, "none", other, ""},
		4:  {Config{AccessModel: AccessPresence}, "none", to, "not-authorized"},
		5:  {Config{AccessModel: AccessPresence}, "none", Contact{}, "not-authorized"},
		6:  {roster, "none", friend, ""},
		7:  {roster, "none", to, ""}, // in the group: §4.5 asks no more
		8:  {roster, "none", other, "not-authorized"},
		9:  {roster, "none", hidden, "not-authorized"},
		10: {Config{AccessModel: AccessRoster}, "none", friend, "not-authorized"}, // no groups: nobody
		11: {Config{AccessModel: AccessWhitelist}, "none", friend, "not-allowed"},
		12: {Config{AccessModel: AccessWhitelist}, "member", Contact{}, ""},
		13: {Config{AccessModel: AccessWhitelist}, "publisher", Contact{}, ""},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			err := Access(tc.c, tc.aff, tc.who)
			got := ""
			if err != nil {
				got = err.(*stanza.Error).Condition()
			}
			if got != tc.cond {
				t.Fatalf("Access = %v, want %q", err, tc.cond)
			}
		})
	}
}

func field(v, val string) string {
	return "<field var='" + v + "'><value>" + val + "</value></field>"
}
