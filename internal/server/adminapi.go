package server

import (
	"parley/internal/audit"
	"parley/internal/control"
)

// controlDoneAdmin records the suspensions and token changes the CLI made
// through the control socket.
func (s *Server) controlDoneAdmin(req control.Request) {
	switch req.Op {
	case "user.suspend":
		s.accountEvent(audit.ActionAccountSuspended, "cli", req.User, "", "control-socket")
	case "user.resume":
		s.accountEvent(audit.ActionAccountResumed, "cli", req.User, "", "control-socket")
	case "token.create":
		d := map[string]string{"via": "control-socket", "id": req.ID, "role": req.Role, "name": req.Name}
		if req.User != "" {
			d["user"] = s.bare(req.User)
		}
		s.audit.Emit(audit.Record{Actor: "cli", Action: audit.ActionTokenCreated, Target: "token:" + req.ID,
			Outcome: audit.OutcomeSuccess, Details: d})
	case "token.revoke":
		s.audit.Emit(audit.Record{Actor: "cli", Action: audit.ActionTokenRevoked, Target: "token:" + req.ID,
			Outcome: audit.OutcomeSuccess, Details: map[string]string{"via": "control-socket"}})
	}
}
