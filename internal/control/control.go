package control

import (
	"context"
	"errors"
	"fmt"
	"time"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/sasl"
	"parley/internal/stanza"
	"parley/internal/store"
)

// Users is the account storage the operations need.
type Users interface {
	CreateUser(ctx context.Context, u store.User) error
	SetUserKeys(ctx context.Context, username string, sha1, sha256 store.ScramKeys) error
	DeleteUser(ctx context.Context, username string) error
	ListUsers(ctx context.Context) ([]string, error)
	// For the account operations of accounts.go.
	GetUser(ctx context.Context, username string) (store.User, error)
	SetUserDisabled(ctx context.Context, username string, disabled bool) error
}

// Sessions finds the live sessions of an account (the router).
type Sessions interface {
	Resources(bare jid.JID) []router.Resource
}

// Rooms destroys a group chat room: on a running server the MUC service,
// which tells the occupants of a loaded room; else the store (StoredRooms).
type Rooms interface {
	DestroyRoom(ctx context.Context, room jid.JID, reason string) error
}

// StoredRooms destroys rooms in the store only, for when no server runs.
type StoredRooms struct{ Store store.Rooms }

// DestroyRoom deletes the stored room; store.ErrNotFound if there is none.
func (s StoredRooms) DestroyRoom(ctx context.Context, room jid.JID, _ string) error {
	return s.Store.DeleteRoom(ctx, room.String())
}

// Uploads is the upload service's cleanup (upload.Module.Forget wakes it,
// as retention.Uploads does).
type Uploads interface {
	Forget(username string)
}

// Ops are the operations on one server.
type Ops struct {
	Domain jid.JID
	Users  Users
	// Sessions is nil when no server runs.
	Sessions Sessions
	// Rooms is nil when the store keeps no rooms.
	Rooms Rooms
	// RoomStore keeps the persistent rooms, for listing and reading them
	// (rooms.go); nil when the store keeps none.
	RoomStore store.Rooms
	// Tokens keeps the admin API's tokens (tokens.go); nil when the store
	// keeps none.
	Tokens store.APITokens
	// Holds keeps legal holds (holds.go); nil when the store keeps none.
	Holds store.LegalHolds
	// Uploads, when set, is the upload service, told when a hold is
	// released so that its cleanup removes at once the files the hold
	// kept past their expiry.
	Uploads Uploads
	// Ediscovery searches and exports archives (ediscovery.go); nil when
	// no server runs.
	Ediscovery Ediscovery
	// Iterations of PBKDF2 for new passwords; zero means
	// sasl.DefaultIterations.
	Iterations int
	// Done, if set, is told of every request that changed something and
	// succeeded (a running server records it in its audit log and drops
	// what modules cache for a deleted account; the command line, running
	// it on the store, records AuditRecord's).
	Done func(req Request)
}

// Stream errors that end the sessions of a changed account.
var (
	errDeleted         = stanza.ErrStreamNotAuthorized.WithText("account deleted")
	errPasswordChanged = stanza.ErrStreamNotAuthorized.WithText("password changed")
)

func (o *Ops) bare(username string) (jid.JID, error) {
	return jid.New(username, o.Domain.String(), "")
}

func (o *Ops) keys(password string) (sha1, sha256 store.ScramKeys, err error) {
	it := o.Iterations
	if it == 0 {
		it = sasl.DefaultIterations
	}
	if sha1, err = sasl.NewKeys(sasl.SHA1, password, it); err != nil {
		return sha1, sha256, fmt.Errorf("password: %w", err)
	}
	if sha256, err = sasl.NewKeys(sasl.SHA256, password, it); err != nil {
		return sha1, sha256, fmt.Errorf("password: %w", err)
	}
	return sha1, sha256, nil
}

// AddUser creates an account; store.ErrExists if it exists. The password
// itself is never stored, only its SCRAM keys.
func (o *Ops) AddUser(ctx context.Context, username, password string) error {
	return o.AddAccount(ctx, username, password, false)
}

// AddAccount is AddUser that may mark the account as a bot (disco
// client/bot).
func (o *Ops) AddAccount(ctx context.Context, username, password string, bot bool) error {
	if _, err := o.bare(username); err != nil {
		return err
	}
	k1, k256, err := o.keys(password)
	if err != nil {
		return err
	}
	return o.Users.CreateUser(ctx, store.User{Username: username, SHA1: k1, SHA256: k256, Created: time.Now(), Bot: bot})
}

// SetPassword changes an account's password and ends its live sessions
// other than keep (the zero JID keeps none): a client that logged in with
// the old password must not stay. It returns how many sessions it ended;
// store.ErrNotFound for an unknown account.
func (o *Ops) SetPassword(ctx context.Context, username, password string, keep jid.JID) (int, error) {
	bare, err := o.bare(username)
	if err != nil {
		return 0, err
	}
	k1, k256, err := o.keys(password)
	if err != nil {
		return 0, err
	}
	if err := o.Users.SetUserKeys(ctx, username, k1, k256); err != nil {
		return 0, err
	}
	return o.EndSessions(bare, keep, errPasswordChanged), nil
}

// DeleteUser deletes an account and everything it owns, and ends its live
// sessions with <not-authorized/>. Sessions are ended before (so they
// write nothing for it afterwards) and again after the deletion (a login
// that came in between). store.ErrNotFound for an unknown account.
func (o *Ops) DeleteUser(ctx context.Context, username string) (int, error) {
	bare, err := o.bare(username)
	if err != nil {
		return 0, err
	}
	ended := map[router.Session]bool{}
	o.endSessions(bare, jid.JID{}, errDeleted, ended)
	if err := o.Users.DeleteUser(ctx, username); err != nil {
		return len(ended), err
	}
	// Again for a session that logged in while the account was deleted;
	// one ended before may still be listed (Terminate does not wait for
	// the session to unbind), so it is neither ended nor counted twice.
	o.endSessions(bare, jid.JID{}, errDeleted, ended)
	return len(ended), nil
}

// ListUsers returns every username in ascending order.
func (o *Ops) ListUsers(ctx context.Context) ([]string, error) { return o.Users.ListUsers(ctx) }

// EndSessions terminates the live sessions of bare except keep with e and
// returns how many it ended (none when no server runs).
func (o *Ops) EndSessions(bare, keep jid.JID, e *stanza.StreamError) int {
	ended := map[router.Session]bool{}
	o.endSessions(bare, keep, e, ended)
	return len(ended)
}

// endSessions terminates the live sessions of bare except keep and those
// already in ended, and adds them to ended.
func (o *Ops) endSessions(bare, keep jid.JID, e *stanza.StreamError, ended map[router.Session]bool) {
	if o.Sessions == nil {
		return
	}
	for _, r := range o.Sessions.Resources(bare) {
		if r.Session.JID() == keep || ended[r.Session] {
			continue
		}
		r.Session.Terminate(e)
		ended[r.Session] = true
	}
}

// ErrNoRooms means the store keeps no rooms.
var ErrNoRooms = errors.New("control: this server keeps no rooms")

// DestroyRoom destroys a room; store.ErrNotFound if there is none.
func (o *Ops) DestroyRoom(ctx context.Context, room jid.JID, reason string) error {
	if o.Rooms == nil {
		return ErrNoRooms
	}
	return o.Rooms.DestroyRoom(ctx, room, reason)
}
