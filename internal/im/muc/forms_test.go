package muc

import (
	"strconv"
	"strings"
	"testing"

	"parley/internal/jid"
)

// TestFormLimits: a configuration form past the room's data form limits
// is refused with policy-violation and changes nothing; a malformed one
// (a boolean given twice) is a bad request.
func TestFormLimits(t *testing.T) {
	h := newHarness(t)
	owner := "crone@example.com/broom"
	h.create(owner, "coven", "crone")
	submit := func(fields string) string {
		got := h.recv(owner, "<iq type='set' id='cfg' to='coven@"+service+"'><query xmlns='"+NSOwner+"'>"+
			"<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>"+NSRoomConfig+"</value></field>"+
			fields+"</x></query></iq>")
		return errorOf(find(got, isIQ("cfg")))
	}
	var many strings.Builder
	many.WriteString("<field var='muc#roomconfig_roomname'><value>renamed</value></field>")
	for i := range formLimits.Fields {
		many.WriteString("<field var='x-" + strconv.Itoa(i) + "'/>")
	}
	for i, tc := range []struct{ fields, want string }{
		0: {many.String(), "policy-violation"},
		1: {"<field var='muc#roomconfig_roomname'>" + strings.Repeat("<value>v</value>", formLimits.Values+1) + "</field>",
			"policy-violation"},
		2: {"<field var='muc#roomconfig_roomname'><value>" + strings.Repeat("v", formLimits.Bytes) + "</value></field>",
			"policy-violation"},
		3: {"<field var='muc#roomconfig_moderatedroom' type='boolean'><value>1</value><value>0</value></field>", "bad-request"},
		4: {"<field var='muc#roomconfig_moderatedroom'><value>maybe</value></field>", "not-acceptable"},
	} {
		if got := submit(tc.fields); got != tc.want {
			t.Errorf("%d: got %q, want %s", i, got, tc.want)
		}
	}
	if h.svc.rooms[jid.MustParse("coven@"+service)].cfg.Name != "" {
		t.Fatal("a refused form changed the configuration")
	}
}
