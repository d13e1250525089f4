package spam

import "parley/internal/audit"

// Auditor records audit events; *audit.Log provides it.
type Auditor interface {
	Emit(audit.Record)
}

// Policies named in the audit records of refusals (Details "policy").
const (
	PolicyBlocklist  = "server-blocklist"
	PolicyNewAccount = "new-account-limit"
	PolicyStrangers  = "stranger-filter"
)
