package control

import (
	"context"
	"strings"
	"time"

	"parley/internal/im/muc"
	"parley/internal/jid"
	"parley/internal/store"
)

// Room is a persistent room as operators see it: never its password.
type Room struct {
	JID               jid.JID
	Name              string
	Description       string
	Public            bool
	MembersOnly       bool
	Moderated         bool
	PasswordProtected bool
	Owners            []string
	Created           time.Time
}

func roomOf(r muc.RoomInfo) Room {
	return Room{JID: r.JID, Name: r.Config.Name, Description: r.Config.Description, Public: r.Config.Public,
		MembersOnly: r.Config.MembersOnly, Moderated: r.Config.Moderated,
		PasswordProtected: r.Config.PasswordProtected, Owners: r.Owners, Created: r.Created}
}

// RoomService is the MUC service's address: the running service's, else
// conference.<domain> as the CLI assumes.
func (o *Ops) RoomService() jid.JID {
	if s, ok := o.Rooms.(interface{ JID() jid.JID }); ok {
		if j := s.JID(); !j.IsZero() {
			return j
		}
	}
	j, _ := jid.Parse("conference." + o.Domain.String())
	return j
}

// RoomJID reads a room: name@service, or a bare name on RoomService.
func (o *Ops) RoomJID(s string) (jid.JID, error) {
	if !strings.Contains(s, "@") {
		s += "@" + o.RoomService().String()
	}
	j, err := jid.Parse(s)
	if err != nil {
		return jid.JID{}, err
	}
	if j.Local() == "" || !j.IsBare() || j.Domain() != o.RoomService().String() {
		return jid.JID{}, store.ErrNotFound
	}
	return j, nil
}

// ListRooms returns the persistent rooms in JID order.
func (o *Ops) ListRooms(ctx context.Context) ([]Room, error) {
	if o.RoomStore == nil {
		return nil, ErrNoRooms
	}
	list, err := muc.ListRooms(ctx, o.RoomStore)
	if err != nil {
		return nil, err
	}
	out := make([]Room, 0, len(list))
	for _, r := range list {
		out = append(out, roomOf(r))
	}
	return out, nil
}

// Room returns one persistent room; store.ErrNotFound.
func (o *Ops) Room(ctx context.Context, room jid.JID) (Room, error) {
	if o.RoomStore == nil {
		return Room{}, ErrNoRooms
	}
	if _, err := o.RoomStore.GetRoom(ctx, room.String()); err != nil {
		return Room{}, err
	}
	list, err := muc.ListRooms(ctx, o.RoomStore)
	if err != nil {
		return Room{}, err
	}
	for _, r := range list {
		if r.JID == room {
			return roomOf(r), nil
		}
	}
	return Room{}, store.ErrNotFound
}

// roomCreator is the running MUC service, which creates a room it then
// serves (muc.Module.CreateRoom).
type roomCreator interface {
	CreateRoom(ctx context.Context, room, owner jid.JID, cfg muc.Config) error
}

// CreateRoom creates a persistent room owned by owner; store.ErrExists.
func (o *Ops) CreateRoom(ctx context.Context, room, owner jid.JID, name, description string, membersOnly, public bool) error {
	cfg := muc.DefaultConfig()
	cfg.Name, cfg.Description, cfg.MembersOnly, cfg.Public, cfg.Persistent = name, description, membersOnly, public, true
	if c, ok := o.Rooms.(roomCreator); ok {
		return c.CreateRoom(ctx, room, owner.Bare(), cfg)
	}
	if o.RoomStore == nil {
		return ErrNoRooms
	}
	return muc.CreateRoom(ctx, o.RoomStore, room, owner.Bare(), cfg)
}

// RoomAffiliations returns a room's affiliations (XEP-0045 §5.2) in JID
// order; store.ErrNotFound for an unknown room.
func (o *Ops) RoomAffiliations(ctx context.Context, room jid.JID) ([]store.RoomAffiliation, error) {
	if o.RoomStore == nil {
		return nil, ErrNoRooms
	}
	if _, err := o.RoomStore.GetRoom(ctx, room.String()); err != nil {
		return nil, err
	}
	return o.RoomStore.RoomAffiliations(ctx, room.String())
}
