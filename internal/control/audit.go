package control

import (
	"strings"

	"parley/internal/audit"
)

// accountActions are the audit actions of the account requests.
var accountActions = map[string]string{"user.add": audit.ActionAccountCreated, "user.passwd": audit.ActionPasswordChanged,
	"user.del": audit.ActionAccountDeleted, "user.suspend": audit.ActionAccountSuspended, "user.resume": audit.ActionAccountResumed}

// AuditRecord is the audit record of a change the command line made, as
// Do told Done of it (req carries what Do set: a created token's ID, the
// hold as stored), with actor "cli"; false for a request that changed
// nothing. domain is the server's, for the accounts' addresses.
func AuditRecord(req Request, domain string) (audit.Record, bool) {
	r := audit.Record{Actor: "cli", Outcome: audit.OutcomeSuccess}
	if a, ok := accountActions[req.Op]; ok {
		r.Action, r.Target = a, req.User+"@"+domain
		return r, true
	}
	switch req.Op {
	case "room.destroy":
		r.Action, r.Target = audit.ActionRoomDestroyed, req.Room
	case "token.create":
		r.Action, r.Target = audit.ActionTokenCreated, "token:"+req.ID
		r.Details = map[string]string{"id": req.ID, "role": req.Role, "name": req.Name}
		if req.User != "" {
			r.Details["user"] = req.User + "@" + domain
		}
	case "token.revoke":
		r.Action, r.Target = audit.ActionTokenRevoked, "token:"+req.ID
	case "hold.create", "hold.release":
		if req.Hold == nil {
			return r, false
		}
		r.Details = HoldDetails(*req.Hold, strings.TrimPrefix(req.Op, "hold."))
		r.Action, r.Target = audit.ActionHold, "hold:"+r.Details["id"]
	default:
		return r, false
	}
	return r, true
}
