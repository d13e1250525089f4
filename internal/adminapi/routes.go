package adminapi

import (
	"slices"

	"parley/internal/audit"
	"parley/internal/control"
)

// Roles besides admin (which may call everything).
var (
	helpdesk  = []string{control.RoleHelpdesk}
	auditor   = []string{control.RoleAuditor}
	adminOnly []string
)

// routes are the API; openapi.json describes each (TestOpenAPIMatchesRoutes).
var routes = []route{
	{"GET", "/api/v1/users", helpdesk, "", listUsers},
	{"POST", "/api/v1/users", helpdesk, audit.ActionAccountCreated, createUser},
	{"GET", "/api/v1/users/{user}", helpdesk, "", getUser},
	{"DELETE", "/api/v1/users/{user}", helpdesk, audit.ActionAccountDeleted, deleteUser},
	{"POST", "/api/v1/users/{user}/disable", helpdesk, audit.ActionAccountDisabled, setDisabled(true)},
	{"POST", "/api/v1/users/{user}/enable", helpdesk, audit.ActionAccountEnabled, setDisabled(false)},
	{"POST", "/api/v1/users/{user}/password", helpdesk, audit.ActionPasswordChanged, setPassword},
	{"POST", "/api/v1/users/{user}/suspend", helpdesk, audit.ActionAccountSuspended, suspendUser},
	{"POST", "/api/v1/users/{user}/resume", helpdesk, audit.ActionAccountResumed, resumeUser},
	{"GET", "/api/v1/users/{user}/sessions", helpdesk, "", userSessions},
	{"DELETE", "/api/v1/users/{user}/sessions", helpdesk, audit.ActionSessionEndedByAdmin, endUserSessions},
	{"DELETE", "/api/v1/users/{user}/sessions/{resource}", helpdesk, audit.ActionSessionEndedByAdmin, endSession},
	{"GET", "/api/v1/sessions", helpdesk, "", listSessions},
	{"GET", "/api/v1/rooms", adminOnly, "", listRooms},
	{"POST", "/api/v1/rooms", adminOnly, audit.ActionAPICall, createRoom},
	{"GET", "/api/v1/rooms/{room}", adminOnly, "", getRoom},
	{"DELETE", "/api/v1/rooms/{room}", adminOnly, audit.ActionRoomDestroyed, destroyRoom},
	{"GET", "/api/v1/rooms/{room}/affiliations", adminOnly, "", roomAffiliations},
	{"GET", "/api/v1/tokens", adminOnly, "", listTokens},
	{"DELETE", "/api/v1/tokens/{id}", adminOnly, audit.ActionTokenRevoked, revokeToken},
	{"GET", "/api/v1/server", adminOnly, "", serverInfo},
	{"GET", "/api/v1/audit", auditor, "", queryAudit},
	{"GET", "/api/v1/audit/export", auditor, "", exportAudit},
}

// allRoutes are routes and the groups kept in their own files.
func allRoutes() []route {
	return slices.Concat(routes, reportRoutes, meRoutes, supervisionRoutes, holdRoutes, deviceRoutes, webhookRoutes)
}
