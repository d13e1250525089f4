// Package store declares what parley keeps on disk, independent of the
// database that keeps it. Backends live in sub-packages (sqlite,
// postgres) and must all pass the conformance suite in storetest; nothing
// above this package may know which backend it talks to.
//
// Users are identified by their username: the PRECIS-normalised localpart of
// their bare JID on this server's domain. Other addresses are bare JIDs as
// normalised strings (jid.JID.String()).
package store

import (
	"context"
	"errors"
	"time"
)

// Errors with stable identities; backends wrap or return these.
var (
	ErrNotFound = errors.New("store: not found")
	ErrExists   = errors.New("store: already exists")
	// ErrClosed is returned by a backend's writes after Close.
	ErrClosed = errors.New("store: closed")
	// ErrSchemaTooNew means the database was migrated by a newer parley;
	// the backend refuses to open it rather than misread it.
	ErrSchemaTooNew = errors.New("store: schema newer than this build")
)

// Store is everything a backend provides. Feature packages declare the
// smaller interface they use; *sqlite.Store and *postgres.Store satisfy
// all of them.
type Store interface {
	Users
	Rosters
	Offline
	VCards
	PrivateXML
	Blocklists
	Archives
	ArchiveSearches
	Rooms
	PEP
	PubSub
	Uploads
	Transfers
	PushRegistrations
	Audit
	APITokens
	AbuseReports
	StrangerFilters
	Incidents
	DigestAddresses
	LegalHolds
	Retention
	FastTokens
	WebhookDeadLetters
	Close() error
}

// ScramKeys are the salted SCRAM keys of RFC 5802 for one hash function.
// Passwords are never stored, only these.
type ScramKeys struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte
	ServerKey  []byte
}

// User is an account.
type User struct {
	Username string
	SHA1     ScramKeys
	SHA256   ScramKeys
	Created  time.Time
	// Disabled accounts cannot log in until re-enabled; their data stays
	// (XEP-0133 §4.3).
	Disabled bool
	// Bot marks an automated account (a webhook's, an integration's):
	// disco shows it as client/bot (XEP-0030 registry).
	Bot bool
}

// Users keeps accounts.
type Users interface {
	// CreateUser adds an account; ErrExists if the username is taken.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns ErrNotFound for an unknown username.
	GetUser(ctx context.Context, username string) (User, error)
	// SetUserKeys replaces the SCRAM keys (password change); ErrNotFound.
	SetUserKeys(ctx context.Context, username string, sha1, sha256 ScramKeys) error
	// DeleteUser removes the account and everything it owns (roster, offline
	// messages, vCard, private XML, block list); ErrNotFound.
	DeleteUser(ctx context.Context, username string) error
	// ListUsers returns all usernames in ascending order.
	ListUsers(ctx context.Context) ([]string, error)
	// SetUserDisabled disables or re-enables an account; ErrNotFound.
	SetUserDisabled(ctx context.Context, username string, disabled bool) error
}

// Subscription states of RFC 6121 §2.1.2.5.
const (
	SubNone = "none"
	SubTo   = "to"
	SubFrom = "from"
	SubBoth = "both"
)

// RosterItem is one contact of a user, with the subscription state machine's
// full state (RFC 6121 §3 and Appendix A).
type RosterItem struct {
	JID          string   // contact's bare JID
	Name         string   // user-assigned handle
	Groups       []string // sorted, unique
	Subscription string   // SubNone, SubTo, SubFrom, SubBoth
	AskOut       bool     // pending out: we asked to subscribe to the contact
	PendingIn    bool     // pending in: the contact asked to subscribe to us
	PreApproved  bool     // RFC 6121 §3.4 pre-approval
	// PendingInStanza is the raw subscribe presence to redeliver at login
	// while PendingIn is set (RFC 6121 §3.1.3).
	PendingInStanza []byte
	// Hidden items exist only to hold pending-in or pre-approval state for a
	// contact the user never added; they are not sent in roster results
	// (RFC 6121 §3.1.3: a pending inbound request creates no roster item).
	Hidden bool
}

// RosterColumns are a roster_items row after its username, the same in
// both SQL backends.
const RosterColumns = `jid, name, groups, subscription, ask_out, pending_in,
	pre_approved, pending_stanza, hidden`

// Rosters keeps contact lists with a per-user version counter
// (RFC 6121 §2.6 roster versioning). Every change to a user's roster raises
// that user's version by one; the version is returned so pushes carry it.
type Rosters interface {
	// Roster returns all items of a user (hidden ones too) and the version.
	Roster(ctx context.Context, username string) (items []RosterItem, version int64, err error)
	// RosterItem returns one item; ErrNotFound.
	RosterItem(ctx context.Context, username, contact string) (RosterItem, error)
	// PutRosterItem inserts or replaces the item and returns the new version.
	PutRosterItem(ctx context.Context, username string, item RosterItem) (version int64, err error)
	// DeleteRosterItem removes the item and returns the new version;
	// ErrNotFound.
	DeleteRosterItem(ctx context.Context, username, contact string) (version int64, err error)
}

// OfflineMessage is a message stored for a user who had no available
// resource (XEP-0160).
type OfflineMessage struct {
	ID     int64 // assigned by the store, ascending in arrival order
	Stamp  time.Time
	Stanza []byte // raw serialised <message/>
}

// Offline keeps messages until the user comes online.
type Offline interface {
	// StoreOffline appends a message. It returns only when the message is
	// durable (committed). Backends batch concurrent calls into one
	// transaction (group commit). Callers enforce a per-user limit with
	// CountOffline.
	StoreOffline(ctx context.Context, username string, msg OfflineMessage) error
	// OfflineMessages returns a user's stored messages in arrival order.
	OfflineMessages(ctx context.Context, username string) ([]OfflineMessage, error)
	// DeleteOffline removes the listed messages (after delivery).
	DeleteOffline(ctx context.Context, username string, ids []int64) error
	// CountOffline returns how many messages wait for the user.
	CountOffline(ctx context.Context, username string) (int, error)
	// OfflineUsage returns how many messages wait for the user and the
	// bytes of their stanzas, for the per-user quotas.
	OfflineUsage(ctx context.Context, username string) (count int, bytes int64, err error)
}

// VCards keeps vcard-temp documents (XEP-0054) as raw XML.
type VCards interface {
	// VCard returns ErrNotFound when the user has none.
	VCard(ctx context.Context, username string) ([]byte, error)
	SetVCard(ctx context.Context, username string, vcard []byte) error
}

// PrivateXML keeps XEP-0049 private storage: one raw element per
// (user, key), where key is "name namespace" of the stored element.
type PrivateXML interface {
	// PrivateXML returns ErrNotFound when nothing is stored under key.
	PrivateXML(ctx context.Context, username, key string) ([]byte, error)
	SetPrivateXML(ctx context.Context, username, key string, data []byte) error
	// PrivateXMLSizes returns the length in bytes of what is stored under
	// each of a user's keys, without reading it (none for an unknown user).
	PrivateXMLSizes(ctx context.Context, username string) (map[string]int, error)
}

// Blocklists keeps XEP-0191 block lists: JIDs as the user wrote them
// (normalised), bare, full or domain.
type Blocklists interface {
	Blocklist(ctx context.Context, username string) ([]string, error)
	// Block adds JIDs (already present ones are ignored).
	Block(ctx context.Context, username string, jids []string) error
	// Unblock removes JIDs; no JIDs means remove all.
	Unblock(ctx context.Context, username string, jids []string) error
}

// Transfers is what copying a whole site from one backend to another
// (parley migrate) needs beyond the other interfaces: what they cannot
// enumerate or set.
type Transfers interface {
	// PrivateXMLKeys returns the keys under which a user has private XML,
	// in ascending byte order (none for an unknown user).
	PrivateXMLKeys(ctx context.Context, username string) ([]string, error)
	// RosterVersions returns every recorded roster version by username,
	// those of deleted accounts included: they are kept so that an account
	// created again never reuses a version (RFC 6121 §2.6.1).
	RosterVersions(ctx context.Context) (map[string]int64, error)
	// RaiseRosterVersion sets a username's roster version to version
	// unless it is already at least that, so versions never go backwards.
	// The account need not exist (see RosterVersions).
	RaiseRosterVersion(ctx context.Context, username string, version int64) error
	// TableRows counts the rows of every table of the schema, by table
	// name: what migrate compares, so that no table is left behind.
	TableRows(ctx context.Context) (map[string]int64, error)
	// ListUploads returns every upload record, in any state, by ID.
	ListUploads(ctx context.Context) ([]Upload, error)
	// ImportUpload writes an upload record as it is (state included);
	// ErrExists for a taken ID.
	ImportUpload(ctx context.Context, u Upload) error
	// ImportAbuseReport stores a report under its own ID (ErrExists if
	// taken); reports added later are numbered after the highest.
	ImportAbuseReport(ctx context.Context, r AbuseReport) error
	// ImportIncident stores an incident as it is: its ID (ErrExists if
	// taken), state, times and notes; incidents added later are numbered
	// after the highest.
	ImportIncident(ctx context.Context, in Incident) error
	// AuditCursors returns every audit sink's cursor by sink name.
	AuditCursors(ctx context.Context) (map[string]int64, error)
	// PubSubServices returns every service that has nodes (pubsub
	// domains and, for PEP, accounts' bare JIDs) in byte order.
	PubSubServices(ctx context.Context) ([]string, error)
	// StrangerFilters returns every account's recorded stranger-filter
	// choice, off included.
	StrangerFilters(ctx context.Context) (map[string]bool, error)
}
