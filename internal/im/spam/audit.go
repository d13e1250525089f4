package spam

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"parley/internal/audit"
	"parley/internal/stanza"
)

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

// Limits of the refusal records: a spammer's flood must not become a
// flood of audit records.
const (
	auditEvery = time.Minute // one record per policy, sender and recipient in this time
	auditPairs = 10000       // pairs remembered; beyond it the memory starts again
)

// refusals writes an audit record (action policy, outcome denied) for
// refused stanzas: the first of a policy, sender and recipient, then at
// most one per auditEvery, which tells how many were refused without a
// record since the previous one ("unrecorded"). Dropped presence is not
// recorded (a broadcast is not the sender's request); refused messages,
// IQ requests and subscription requests are.
type refusals struct {
	audit Auditor
	now   func() time.Time

	mu   sync.Mutex // guards last
	last map[refusalKey]*refusalCount
}

type refusalKey struct{ policy, from, to string }

type refusalCount struct {
	at         time.Time // of the last record
	unrecorded int       // refusals since it
}

func newRefusals(a Auditor, now func() time.Time) *refusals {
	if a == nil {
		return nil
	}
	return &refusals{audit: a, now: now, last: make(map[refusalKey]*refusalCount)}
}

// record notes that policy refused st with err (a *stanza.Error; others,
// such as router.ErrDrop or a store failure, are not refusals).
func (f *refusals) record(policy string, st *stanza.Stanza, err error) {
	var se *stanza.Error
	if f == nil || !errors.As(err, &se) {
		return
	}
	k := refusalKey{policy, st.From.Bare().String(), st.To.Bare().String()}
	now := f.now()
	f.mu.Lock()
	c := f.last[k]
	if c != nil && now.Sub(c.at) < auditEvery {
		c.unrecorded++
		f.mu.Unlock()
		return
	}
	unrecorded := 0
	if c != nil {
		unrecorded = c.unrecorded
	}
	if len(f.last) >= auditPairs && c == nil {
		clear(f.last)
	}
	f.last[k] = &refusalCount{at: now}
	f.mu.Unlock()
	d := map[string]string{"policy": policy, "stanza": st.Kind.String(), "condition": se.Condition()}
	if st.Type != "" {
		d["type"] = st.Type
	}
	if unrecorded > 0 {
		d["unrecorded"] = strconv.Itoa(unrecorded)
	}
	f.audit.Emit(audit.Record{Actor: k.from, Action: audit.ActionPolicy, Target: k.to,
		Outcome: audit.OutcomeDenied, Details: d})
}
