package muc

import (
	"context"
	"testing"

	"parley/internal/jid"
)

// TestOnDestroy: a room destroyed by its owner (§10.9) or through
// DestroyRoom is reported to Options.OnDestroy, for the audit log.
func TestOnDestroy(t *testing.T) {
	type event struct{ room, by, reason string }
	var got []event
	h := newHarness(t, func(o *Options) {
		o.OnDestroy = func(room, by jid.JID, reason string) { got = append(got, event{room.String(), by.String(), reason}) }
	})
	threeWitches(h, "persistentroom=1")
	if c := iqError(h.recv(crone, "<iq type='set' id='d' to='"+coven+"'><query xmlns='"+NSOwner+"'><destroy><reason>gone</reason></destroy></query></iq>"), "d"); c != "result" {
		t.Fatalf("destroy: %s", c)
	}
	threeWitches(h, "persistentroom=1")
	if err := h.svc.DestroyRoom(context.Background(), jid.MustParse(coven), "by the operator"); err != nil {
		t.Fatal(err)
	}
	want := []event{{coven, crone, "gone"}, {coven, "", "by the operator"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("OnDestroy saw %+v, want %+v", got, want)
	}
}
