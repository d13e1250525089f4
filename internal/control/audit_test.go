package control

import (
	"maps"
	"testing"

	"parley/internal/audit"
	"parley/internal/store"
)

// AuditRecord records each change the command line makes, and nothing
// for a read or a hold request Do did not complete.
func TestAuditRecord(t *testing.T) {
	h := store.LegalHold{ID: 7, Name: "m", Rooms: []string{"desk@conference.localhost"}}
	for _, c := range []struct {
		req            Request
		action, target string
		details        map[string]string
	}{
		{Request{Op: "user.add", User: "alice"}, audit.ActionAccountCreated, "alice@localhost", nil},
		{Request{Op: "user.suspend", User: "alice"}, audit.ActionAccountSuspended, "alice@localhost", nil},
		{Request{Op: "room.destroy", Room: "desk@conference.localhost"}, audit.ActionRoomDestroyed, "desk@conference.localhost", nil},
		{Request{Op: "token.create", ID: "t1", Role: RoleHelpdesk, Name: "n", User: "bob"}, audit.ActionTokenCreated, "token:t1",
			map[string]string{"id": "t1", "role": RoleHelpdesk, "name": "n", "user": "bob@localhost"}},
		{Request{Op: "token.revoke", ID: "t1"}, audit.ActionTokenRevoked, "token:t1", nil},
		{Request{Op: "hold.release", ID: "7", Hold: &h}, audit.ActionHold, "hold:7",
			map[string]string{"op": "release", "id": "7", "name": "m", "rooms": "[desk@conference.localhost]"}},
	} {
		r, ok := AuditRecord(c.req, "localhost")
		if !ok || r.Actor != "cli" || r.Action != c.action || r.Target != c.target || r.Outcome != audit.OutcomeSuccess ||
			!maps.Equal(r.Details, c.details) {
			t.Errorf("%s: %+v %v", c.req.Op, r, ok)
		}
	}
	for _, req := range []Request{{Op: "user.list"}, {Op: "token.list"}, {Op: "hold.list"}, {Op: "hold.create"}, {Op: "ediscovery.search"}} {
		if r, ok := AuditRecord(req, "localhost"); ok {
			t.Errorf("%s recorded %+v", req.Op, r)
		}
	}
}
