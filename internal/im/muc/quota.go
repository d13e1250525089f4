package muc

import (
	"context"
	"strconv"

	"parley/internal/jid"
	"parley/internal/stanza"
)

// Defaults of the per-user room limits (Options.MaxRooms,
// Options.MaxPersistentRooms).
const (
	DefaultMaxRooms           = 100
	DefaultMaxPersistentRooms = 20
)

// Rooms a user may create (issue 10: one user made 5,000 rooms in 8 s).
// A room counts against its creator (Config.Creator, kept with a
// persistent room) for as long as it exists: a temporary room while it is
// in memory, a persistent one while it is stored. Admins of the service
// ([muc] admins) and rooms made by an operator (admin API, CLI) are not
// counted.
//
// created indexes the stored rooms by creator. It is read from the store
// once, on the first creation that needs it, and then kept by the rooms
// that become persistent or stop being so. s.mu guards it.

// mayCreateAnother reports why user may not create one more room, or
// nil. The caller holds s.mu.
func (s *Module) mayCreateAnother(ctx context.Context, user jid.JID) *stanza.Error {
	bare := user.Bare()
	if s.policy.Load().admins[bare] {
		return nil
	}
	stored, err := s.storedBy(ctx, bare)
	if err != nil {
		s.opts.Log.Error("muc: count rooms", "user", bare.String(), "err", err)
		return stanza.ErrInternalServerError
	}
	n := len(stored)
	for j, rm := range s.rooms {
		if rm.creator == bare && !stored[j] {
			n++
		}
	}
	if n >= s.opts.MaxRooms {
		// XEP-0045 §10.1.1: a refused creation is not-allowed.
		return stanza.ErrNotAllowed.WithText("you may not create more than " + strconv.Itoa(s.opts.MaxRooms) + " rooms")
	}
	return nil
}

// mayPersist reports why rm may not become persistent, or nil: its
// creator has as many persistent rooms as allowed. The caller holds
// rm.mu.
func (s *Module) mayPersist(ctx context.Context, rm *room) *stanza.Error {
	if rm.creator.IsZero() || s.opts.Rooms == nil || s.policy.Load().admins[rm.creator] {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, err := s.storedBy(ctx, rm.creator)
	if err != nil {
		s.opts.Log.Error("muc: count rooms", "user", rm.creator.String(), "err", err)
		return stanza.ErrInternalServerError
	}
	if !stored[rm.jid] && len(stored) >= s.opts.MaxPersistentRooms {
		// A local policy the owner may satisfy by destroying another room
		// (RFC 6120 §8.3.3.12).
		return stanza.ErrPolicyViolation.WithText("the room's creator may not have more than " +
			strconv.Itoa(s.opts.MaxPersistentRooms) + " persistent rooms")
	}
	return nil
}

// storedBy returns the stored rooms a user created, reading the index
// from the store the first time. The caller holds s.mu.
func (s *Module) storedBy(ctx context.Context, bare jid.JID) (map[jid.JID]bool, error) {
	if s.opts.Rooms == nil {
		return nil, nil
	}
	if s.created == nil {
		recs, err := s.opts.Rooms.ListRooms(ctx)
		if err != nil {
			return nil, err
		}
		s.created = make(map[jid.JID]map[jid.JID]bool)
		for _, r := range recs {
			cfg, err := decodeConfig(r.Config)
			j, jerr := jid.Parse(r.JID)
			if err != nil || jerr != nil || cfg.Creator == "" {
				continue
			}
			if c, err := jid.Parse(cfg.Creator); err == nil {
				s.noteStored(c, j, true)
			}
		}
	}
	return s.created[bare], nil
}

// noteStored records that a room of creator is stored, or no longer is.
// The caller holds s.mu.
func (s *Module) noteStored(creator, room jid.JID, stored bool) {
	if s.created == nil || creator.IsZero() {
		return // not read yet: the store will tell
	}
	set := s.created[creator]
	switch {
	case stored && set == nil:
		s.created[creator] = map[jid.JID]bool{room: true}
	case stored:
		set[room] = true
	default:
		delete(set, room)
		if len(set) == 0 {
			delete(s.created, creator)
		}
	}
}

// stored updates the index for rm; the caller holds rm.mu (not s.mu).
func (rm *room) noteStored(stored bool) {
	rm.svc.mu.Lock()
	defer rm.svc.mu.Unlock()
	rm.svc.noteStored(rm.creator, rm.jid, stored)
}
