package audit

import (
	"errors"
	"strconv"
	"sync"
	"time"

	"parley/internal/stanza"
)

// Emitter records audit events; *Log provides it.
type Emitter interface {
	Emit(Record)
}

// Limits of the refusal records: a spammer's flood must not become a
// flood of audit records.
const (
	auditEvery = time.Minute // one record per policy, sender and recipient in this time
	auditPairs = 10000       // pairs remembered; beyond it the memory starts again
)

// Refusals writes an audit record (action policy, outcome denied) for
// refused stanzas: the first of a policy, sender and recipient, then at
// most one per auditEvery, which tells how many were refused without a
// record since the previous one ("unrecorded"). Dropped presence is not
// recorded (a broadcast is not the sender's request); refused messages,
// IQ requests and subscription requests are.
type Refusals struct {
	audit Emitter
	now   func() time.Time

	mu   sync.Mutex // guards last
	last map[refusalKey]*refusalCount
}

type refusalKey struct{ policy, from, to string }

type refusalCount struct {
	at         time.Time // of the last record
	unrecorded int       // refusals since it
}

// NewRefusals returns the recorder of the refusals of policies such as
// the server blocklist (internal/im/spam) or information barriers; nil
// (which records nothing) when a is nil.
func NewRefusals(a Emitter, now func() time.Time) *Refusals {
	if a == nil {
		return nil
	}
	return &Refusals{audit: a, now: now, last: make(map[refusalKey]*refusalCount)}
}

// Record notes that policy refused st with err (a *stanza.Error; others,
// such as router.ErrDrop or a store failure, are not refusals).
func (f *Refusals) Record(policy string, st *stanza.Stanza, err error) {
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
	f.audit.Emit(Record{Actor: k.from, Action: ActionPolicy, Target: k.to,
		Outcome: OutcomeDenied, Details: d})
}
