package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"parley/internal/store"
)

// Actions, the stable names records carry. SIEM rules match on them: never
// rename one, add new ones.
const (
	ActionLogin               = "login"
	ActionLoginFailed         = "login-failed" // Details: mechanism; IP set
	ActionAccountCreated      = "account-created"
	ActionAccountDisabled     = "account-disabled"
	ActionAccountEnabled      = "account-enabled"
	ActionAccountDeleted      = "account-deleted"
	ActionAccountSuspended    = "account-suspended" // incident response: logins refused, sessions ended, tokens revoked
	ActionAccountResumed      = "account-resumed"
	ActionPasswordChanged     = "password-changed"
	ActionTokenCreated        = "token-created"
	ActionTokenRevoked        = "token-revoked"
	ActionDeviceRevoked       = "device-revoked" // a FAST device's tokens deleted and its sessions ended (a lost phone)
	ActionRoleChanged         = "role-changed"
	ActionAPICall             = "api-call"
	ActionSessionEndedByAdmin = "session-ended-by-admin"
	ActionRoomDestroyed       = "room-destroyed"
	ActionConfigReloaded      = "config-reloaded"
	ActionAbuseReport         = "abuse-report"
	ActionHold                = "hold"               // compliance: legal hold placed or lifted
	ActionExport              = "export"             // compliance: archive export
	ActionPolicy              = "policy"             // compliance: a policy decision
	ActionRetention           = "retention"          // compliance: one run of the retention job; Details: counts removed by kind
	ActionIncidentReview      = "incident-review"    // supervision: an incident listed, opened, resolved, escalated or noted; Details: step
	ActionDLPPolicyChanged    = "dlp-policy-changed" // compliance: a DLP policy made, replaced or removed through the API
	ActionFederationLink      = "federation-link"    // s2s: first authenticated link with a remote domain each way; Details: direction, auth
	ActionFederationRefused   = "federation-refused" // s2s: a remote domain refused; Details: direction, reason
)

// Outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)

// Limits on what one record holds, so that a hostile username or a
// client-chosen value cannot make records (or syslog lines) unbounded.
const (
	maxField   = 1024 // bytes of each string field
	maxDetails = 16   // entries in Details
)

// Record is one audit event. Seq, Prev and Hash are set by the Log.
type Record struct {
	Seq       int64
	Time      time.Time
	Actor     string // who did it: a bare JID, "cli", "admin-token:NAME", or "" for nobody known
	Action    string // one of the Action constants
	Target    string // what it was done to: a bare JID, a room, a token name
	IP        string // the source address, when there is one
	Outcome   string // one of the Outcome constants
	RequestID string // correlates with an API request or a stream id
	Details   map[string]string
	Prev      []byte // SHA-256 of the previous record's canonical encoding (zeros for the first)
	Hash      []byte // SHA-256 of this record's canonical encoding
}

// canonical is the encoding a record's hash covers: JSON with keys in
// sorted order (encoding/json writes struct fields in declaration order,
// and these are declared sorted; map keys it sorts itself), every field
// always present, times in UTC to the nanosecond, hashes in hex. Changing
// it breaks every chain written before: it is versioned by the "v" key.
type canonical struct {
	Action    string            `json:"action"`
	Actor     string            `json:"actor"`
	Details   map[string]string `json:"details"`
	IP        string            `json:"ip"`
	Outcome   string            `json:"outcome"`
	Prev      string            `json:"prev"`
	RequestID string            `json:"request_id"`
	Seq       int64             `json:"seq"`
	Target    string            `json:"target"`
	Time      string            `json:"time"`
	V         int               `json:"v"`
}

// Canonical returns the bytes r's hash covers (r.Hash itself is not part
// of them).
func (r Record) Canonical() []byte {
	d := r.Details
	if d == nil {
		d = map[string]string{}
	}
	b, err := json.Marshal(canonical{
		Action: r.Action, Actor: r.Actor, Details: d, IP: r.IP, Outcome: r.Outcome,
		Prev: hex.EncodeToString(r.Prev), RequestID: r.RequestID, Seq: r.Seq, Target: r.Target,
		Time: r.Time.UTC().Format(time.RFC3339Nano), V: 1,
	})
	if err != nil {
		panic("audit: canonical encoding: " + err.Error()) // strings and ints always encode
	}
	return b
}

// ComputeHash returns the SHA-256 of r's canonical encoding.
func (r Record) ComputeHash() []byte {
	h := sha256.Sum256(r.Canonical())
	return h[:]
}

// jsonRecord is a record as exported and forwarded: the canonical fields
// plus its own hash, so a receiver can check the chain too.
type jsonRecord struct {
	canonical
	Hash string `json:"hash"`
}

// MarshalJSON encodes r as one JSON object (one line of an export).
func (r Record) MarshalJSON() ([]byte, error) {
	var c canonical
	if err := json.Unmarshal(r.Canonical(), &c); err != nil {
		return nil, err
	}
	return json.Marshal(jsonRecord{canonical: c, Hash: hex.EncodeToString(r.Hash)})
}

// clean makes a field storable and bounded: valid UTF-8 (PostgreSQL text
// refuses anything else), no NUL, at most maxField bytes.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) > maxField {
		s = s[:maxField]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// normalise applies clean to every field and bounds Details, so that the
// record the Log hashes is exactly the record the store gives back.
func (r Record) normalise() Record {
	r.Actor, r.Action, r.Target = clean(r.Actor), clean(r.Action), clean(r.Target)
	r.IP, r.Outcome, r.RequestID = clean(r.IP), clean(r.Outcome), clean(r.RequestID)
	if len(r.Details) == 0 {
		r.Details = nil
	} else {
		d := make(map[string]string, len(r.Details))
		for k, v := range r.Details {
			if len(d) == maxDetails {
				d["truncated"] = "true"
				break
			}
			if k = clean(k); k != "" {
				d[k] = clean(v)
			}
		}
		r.Details = d
	}
	r.Time = r.Time.UTC()
	return r
}

func toStore(r Record) store.AuditRecord {
	return store.AuditRecord{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action, Target: r.Target,
		IP: r.IP, Outcome: r.Outcome, RequestID: r.RequestID, Details: r.Details, Prev: r.Prev, Hash: r.Hash}
}

func fromStore(r store.AuditRecord) Record {
	return Record{Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action, Target: r.Target,
		IP: r.IP, Outcome: r.Outcome, RequestID: r.RequestID, Details: r.Details, Prev: r.Prev, Hash: r.Hash}
}
