package store

import (
	"context"
	"time"
)

// Room is a persistent multi-user chat room (XEP-0045 §10.2,
// muc#roomconfig_persistentroom). Temporary rooms are never stored.
type Room struct {
	JID string // the room's bare JID, normalised
	// Config is the room configuration as the MUC service encodes it
	// (JSON); the store keeps it opaque so new options need no migration.
	Config []byte
	// Secret keys the room's XEP-0421 occupant ids; it must survive a
	// restart so that ids stay stable.
	Secret  []byte
	Subject string // the current subject (XEP-0045 §8.1), "" if none
	// SubjectFrom is the occupant JID (room/nick) that set the subject.
	SubjectFrom string
	Created     time.Time
}

// RoomAffiliation is one long-lived affiliation of a bare JID with a room
// (XEP-0045 §5.2): owner, admin, member or outcast. "none" is the absence
// of a row.
type RoomAffiliation struct {
	JID         string // bare JID of the user (or a domain)
	Affiliation string // owner, admin, member, outcast
	Nick        string // reserved nickname, optional
	Reason      string // why it was given, e.g. the reason of a ban
}

// Rooms keeps persistent rooms with their affiliations.
type Rooms interface {
	// PutRoom creates the room or replaces its record (config, secret,
	// subject); affiliations are untouched. A zero Created is stored as
	// the time of the call and kept on later replacements.
	PutRoom(ctx context.Context, r Room) error
	// GetRoom returns ErrNotFound for an unknown room.
	GetRoom(ctx context.Context, jid string) (Room, error)
	// ListRooms returns every stored room in ascending JID byte order.
	ListRooms(ctx context.Context) ([]Room, error)
	// DeleteRoom removes the room and its affiliations; ErrNotFound.
	DeleteRoom(ctx context.Context, jid string) error
	// RoomAffiliations returns the room's affiliations in ascending JID
	// byte order (none for an unknown room).
	RoomAffiliations(ctx context.Context, room string) ([]RoomAffiliation, error)
	// SetRoomAffiliation inserts or replaces one affiliation; affiliation
	// "none" (or "") removes it. ErrNotFound if the room is not stored.
	SetRoomAffiliation(ctx context.Context, room string, a RoomAffiliation) error
	// RoomVCard returns the room's vcard-temp document (its avatar,
	// XEP-0486) as raw XML; ErrNotFound if the room is not stored or has
	// none. It is kept apart from Room so that listing rooms never reads
	// the photos.
	RoomVCard(ctx context.Context, room string) ([]byte, error)
	// SetRoomVCard stores or replaces the room's vCard; an empty one
	// removes it. ErrNotFound if the room is not stored. PutRoom leaves
	// it alone; DeleteRoom deletes it.
	SetRoomVCard(ctx context.Context, room string, vcard []byte) error
}
