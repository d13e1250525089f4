package muc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"parley/internal/jid"
	"parley/internal/store"
)

// load reads a persistent room from the store; errNoRoom if it is not
// there. The caller holds s.mu.
func (s *Module) load(ctx context.Context, bare jid.JID) (*room, error) {
	rec, err := s.opts.Rooms.GetRoom(ctx, bare.String())
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoRoom
	}
	if err != nil {
		return nil, err
	}
	affs, err := s.opts.Rooms.RoomAffiliations(ctx, bare.String())
	if err != nil {
		return nil, err
	}
	cfg, err := decodeConfig(rec.Config)
	if err != nil {
		return nil, fmt.Errorf("muc: room %s: bad stored config: %w", bare, err)
	}
	cfg.Persistent = true
	rm := newRoom(s, bare, cfg)
	if len(rec.Secret) > 0 {
		rm.secret = rec.Secret
	}
	rm.history.fromArchive = true
	if rm.vcard, err = s.loadVCard(ctx, bare); err != nil {
		return nil, err
	}
	rm.subject = rec.Subject
	if rec.SubjectFrom != "" {
		rm.subjectFrom, _ = jid.Parse(rec.SubjectFrom)
	}
	for _, a := range affs {
		j, err := jid.Parse(a.JID)
		aff, ok := parseAffiliation(a.Affiliation)
		if err != nil || !ok || aff == None {
			continue
		}
		rm.affs[j] = aff
		if a.Nick != "" {
			rm.nicks[j] = a.Nick
		}
	}
	return rm, nil
}

func (rm *room) record() store.Room {
	return store.Room{JID: rm.jid.String(), Config: rm.cfg.encode(), Secret: rm.secret,
		Subject: rm.subject, SubjectFrom: rm.subjectFrom.String()}
}

// stored reports whether the room lives in the store.
func (rm *room) stored() bool {
	return rm.svc.opts.Rooms != nil && rm.cfg.Persistent && !rm.locked
}

// persist writes the room record of a persistent room. Store failures are
// logged: the room goes on in memory.
func (rm *room) persist(ctx context.Context) {
	if !rm.stored() {
		return
	}
	if err := rm.svc.opts.Rooms.PutRoom(ctx, rm.record()); err != nil {
		rm.svc.opts.Log.Error("muc: store room", "room", rm.jid.String(), "err", err)
	}
}

// persistAll writes the record and every affiliation (a room that has
// just become persistent).
func (rm *room) persistAll(ctx context.Context) {
	if !rm.stored() {
		return
	}
	rm.persist(ctx)
	for j, a := range rm.affs {
		rm.persistAffiliation(ctx, j, a, "")
	}
	rm.persistVCard(ctx)
	rm.noteStored(true)
}

func (rm *room) persistAffiliation(ctx context.Context, target jid.JID, a Affiliation, reason string) {
	if !rm.stored() {
		return
	}
	err := rm.svc.opts.Rooms.SetRoomAffiliation(ctx, rm.jid.String(), store.RoomAffiliation{
		JID: target.String(), Affiliation: string(a), Nick: rm.nicks[target], Reason: reason})
	if err != nil {
		rm.svc.opts.Log.Error("muc: store affiliation", "room", rm.jid.String(), "err", err)
	}
}

func (rm *room) unpersist(ctx context.Context) {
	if rm.svc.opts.Rooms == nil {
		return
	}
	rm.noteStored(false)
	err := rm.svc.opts.Rooms.DeleteRoom(ctx, rm.jid.String())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		rm.svc.opts.Log.Error("muc: delete room", "room", rm.jid.String(), "err", err)
	}
}

// RoomInfo describes a stored room for administrators.
type RoomInfo struct {
	JID     jid.JID
	Config  Config
	Owners  []string
	Created time.Time
}

// CreateRoom stores a persistent room owned by owner with cfg (its
// Persistent flag is forced on); store.ErrExists if the room exists. This
// is `parley room create`; a running service finds the room on its first
// use.
func CreateRoom(ctx context.Context, rooms store.Rooms, room, owner jid.JID, cfg Config) error {
	if room.Local() == "" || !room.IsBare() {
		return fmt.Errorf("muc: %q is not a room address (name@service)", room)
	}
	if owner.IsZero() {
		return errors.New("muc: a room needs an owner")
	}
	if _, err := rooms.GetRoom(ctx, room.String()); err == nil {
		return fmt.Errorf("muc: create %s: %w", room, store.ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	cfg.Persistent = true
	secret := newRoom(&Module{opts: Options{}}, room, cfg).secret
	if err := rooms.PutRoom(ctx, store.Room{JID: room.String(), Config: cfg.encode(), Secret: secret}); err != nil {
		return err
	}
	return rooms.SetRoomAffiliation(ctx, room.String(),
		store.RoomAffiliation{JID: owner.Bare().String(), Affiliation: string(Owner)})
}

// ListRooms lists the stored rooms (`parley room list`).
func ListRooms(ctx context.Context, rooms store.Rooms) ([]RoomInfo, error) {
	recs, err := rooms.ListRooms(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]RoomInfo, 0, len(recs))
	for _, r := range recs {
		j, err := jid.Parse(r.JID)
		if err != nil {
			continue
		}
		cfg, _ := decodeConfig(r.Config)
		info := RoomInfo{JID: j, Config: cfg, Created: r.Created}
		affs, err := rooms.RoomAffiliations(ctx, r.JID)
		if err != nil {
			return nil, err
		}
		for _, a := range affs {
			if a.Affiliation == string(Owner) {
				info.Owners = append(info.Owners, a.JID)
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// DestroyRoom deletes a stored room (`parley room destroy` while the
// server is stopped); store.ErrNotFound if there is none. A running
// server destroys rooms with Module.DestroyRoom, which also tells the
// occupants.
func DestroyRoom(ctx context.Context, rooms store.Rooms, room jid.JID) error {
	return rooms.DeleteRoom(ctx, room.String())
}

// CreateRoom creates a room on the running service, unlocked and owned by
// owner (admin API). store.ErrExists if it exists.
func (s *Module) CreateRoom(ctx context.Context, room, owner jid.JID, cfg Config) error {
	if room.Local() == "" || !room.IsBare() || room.Domain() != s.jid.String() {
		return fmt.Errorf("muc: %q is not a room of %s", room, s.jid)
	}
	rm, created, err := s.create(ctx, room, owner, false)
	if err != nil {
		return err
	}
	if !created {
		return fmt.Errorf("muc: create %s: %w", room, store.ErrExists)
	}
	rm.mu.Lock()
	rm.configure(ctx, cfg)
	rm.unlockAndFlush(ctx)
	return nil
}

// DestroyRoom destroys a room on the running service, telling its
// occupants (§10.9); store.ErrNotFound if there is none.
func (s *Module) DestroyRoom(ctx context.Context, room jid.JID, reason string) error {
	rm, err := s.lookup(ctx, room)
	if errors.Is(err, errNoRoom) {
		return fmt.Errorf("muc: destroy %s: %w", room, store.ErrNotFound)
	}
	if err != nil {
		return err
	}
	rm.mu.Lock()
	rm.destroy(ctx, jid.JID{}, reason)
	if f := s.opts.OnDestroy; f != nil {
		f(room, jid.JID{}, reason)
	}
	rm.unlockAndFlush(ctx)
	return nil
}
