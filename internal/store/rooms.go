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

// PutRoom creates or replaces a room record, keeping its creation time.
func (m StmtMethods) PutRoom(ctx context.Context, r Room) error {
	p := m.DB.Param
	_, err := m.DB.Exec(ctx, `INSERT INTO muc_rooms (jid, config, secret, subject, subject_from, created)
		VALUES (`+p(1)+`, `+p(2)+`, `+p(3)+`, `+p(4)+`, `+p(5)+`, `+p(6)+`)
		ON CONFLICT (jid) DO UPDATE SET config = excluded.config, secret = excluded.secret,
			subject = excluded.subject, subject_from = excluded.subject_from`,
		r.JID, nonNilBytes(r.Config), nonNilBytes(r.Secret), r.Subject, r.SubjectFrom, m.DB.Stamp(r.Created))
	return m.fail(err, "put room %q", r.JID)
}

const roomColumns = `jid, config, secret, subject, subject_from, created`

func scanRoom(scan func(...any) error) (Room, error) {
	var r Room
	var created ScanTime
	err := scan(&r.JID, &r.Config, &r.Secret, &r.Subject, &r.SubjectFrom, &created)
	r.Created = created.Time
	return r, err
}

// GetRoom returns ErrNotFound for an unknown room.
func (m StmtMethods) GetRoom(ctx context.Context, jid string) (Room, error) {
	rs, err := QueryRows(ctx, m.DB, scanRoom, `SELECT `+roomColumns+` FROM muc_rooms WHERE jid = `+m.DB.Param(1), jid)
	if err == nil && len(rs) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return Room{}, m.fail(err, "room %q", jid)
	}
	return rs[0], nil
}

// ListRooms returns every room in ascending JID byte order.
func (m StmtMethods) ListRooms(ctx context.Context) ([]Room, error) {
	out, err := QueryRows(ctx, m.DB, scanRoom, `SELECT `+roomColumns+` FROM muc_rooms ORDER BY jid`)
	return out, m.fail(err, "list rooms")
}

// DeleteRoom removes a room and its affiliations (and, by the backend's
// triggers, its archive).
func (m StmtMethods) DeleteRoom(ctx context.Context, jid string) error {
	err := mustAffect(m.DB.Exec(ctx, `DELETE FROM muc_rooms WHERE jid = `+m.DB.Param(1), jid))
	return m.fail(err, "delete room %q", jid)
}

// RoomAffiliations returns a room's affiliations in ascending JID order.
func (m StmtMethods) RoomAffiliations(ctx context.Context, room string) ([]RoomAffiliation, error) {
	out, err := QueryRows(ctx, m.DB, func(scan func(...any) error) (RoomAffiliation, error) {
		var a RoomAffiliation
		err := scan(&a.JID, &a.Affiliation, &a.Nick, &a.Reason)
		return a, err
	}, `SELECT jid, affiliation, nick, reason FROM muc_affiliations WHERE room = `+m.DB.Param(1)+` ORDER BY jid`, room)
	if err != nil {
		return nil, m.fail(err, "affiliations of %q", room)
	}
	return out, nil
}

// RoomVCard returns ErrNotFound for an unknown room or one without a
// vCard.
func (m StmtMethods) RoomVCard(ctx context.Context, room string) ([]byte, error) {
	v, err := queryValue[[]byte](ctx, m.DB, `SELECT vcard FROM muc_rooms WHERE jid = `+m.DB.Param(1), room)
	if err == nil && len(v) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return nil, m.fail(err, "vcard of room %q", room)
	}
	return v, nil
}

// SetRoomVCard stores, replaces or (empty) removes a room's vCard.
func (m StmtMethods) SetRoomVCard(ctx context.Context, room string, vcard []byte) error {
	err := mustAffect(m.DB.Exec(ctx, `UPDATE muc_rooms SET vcard = `+m.DB.Param(1)+` WHERE jid = `+m.DB.Param(2),
		nonNilBytes(vcard), room))
	return m.fail(err, "set vcard of room %q", room)
}
