package muc

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"parley/internal/defaults"
	"parley/internal/im/mam"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
)

// Namespaces.
const (
	NS           = "http://jabber.org/protocol/muc"
	NSUser       = NS + "#user"
	NSAdmin      = NS + "#admin"
	NSOwner      = NS + "#owner"
	NSRoomConfig = NS + "#roomconfig"
	NSRoomInfo   = NS + "#roominfo"
	NSData       = "jabber:x:data"
	NSDelay      = "urn:xmpp:delay"
	NSStanzaID   = "urn:xmpp:sid:0"
	NSOccupantID = "urn:xmpp:occupant-id:0"
	NSPing       = "urn:xmpp:ping"
	NSModerate   = "urn:xmpp:message-moderate:1"
	NSRetract    = "urn:xmpp:message-retract:1"
	// The namespaces of XEP-0425 v0.2 requests, still sent by deployed
	// clients: moderation fastened (XEP-0422) to the message.
	NSModerate0  = "urn:xmpp:message-moderate:0"
	NSRetract0   = "urn:xmpp:message-retract:0"
	NSFasten     = "urn:xmpp:fasten:0"
	NSDiscoInfo  = "http://jabber.org/protocol/disco#info"
	NSDiscoItems = "http://jabber.org/protocol/disco#items"
	// NSSelfPing is XEP-0410's feature: the service answers a self-ping.
	NSSelfPing = NS + "#self-ping-optimization"
)

// Router is what the service needs of the router: *router.Router has it.
type Router interface {
	// Send routes a stanza by its 'to'; the router delivers to local
	// sessions with inbound processing (blocking, carbons, ...).
	Send(ctx context.Context, st *stanza.Stanza)
	// SendInto is Send for a sender that pays ow: recipients pushed
	// over their queue bound are added to ow.Behind (router.Pay).
	SendInto(ctx context.Context, st *stanza.Stanza, ow *router.Owed)
	// IsLocal says whether a JID is of the server's own domain.
	IsLocal(j jid.JID) bool
}

// Who may create rooms (Options.Create).
const (
	CreateLocal  = "local"
	CreateAnyone = "anyone"
	CreateAdmins = "admins"
)

// createPolicy is Options.Create with its admins, swapped whole by
// SetCreatePolicy.
type createPolicy struct {
	mode   string
	admins map[jid.JID]bool
}

func newCreatePolicy(mode string, admins []jid.JID) *createPolicy {
	p := &createPolicy{mode: mode, admins: make(map[jid.JID]bool, len(admins))}
	if p.mode == "" {
		p.mode = CreateLocal
	}
	for _, a := range admins {
		p.admins[a.Bare()] = true
	}
	return p
}

// mayCreate applies the policy to the real JID of a would-be creator.
func (s *Module) mayCreate(user jid.JID) bool {
	p := s.policy.Load()
	switch p.mode {
	case CreateAnyone:
		return true
	case CreateAdmins:
		return p.admins[user.Bare()]
	}
	return s.router.IsLocal(user)
}

// SetCreatePolicy changes who may create rooms (a configuration reload);
// rooms that exist stay. An unknown mode is CreateLocal.
func (s *Module) SetCreatePolicy(mode string, admins []jid.JID) {
	s.policy.Store(newCreatePolicy(mode, admins))
}

// Options configure the service. The zero value works: the service on
// conference.<domain>, rooms in memory only, local users may create
// rooms, 50 messages of history.
type Options struct {
	// JID is the service's domain; zero is conference.<the router's
	// domain>.
	JID jid.JID
	// Rooms keeps persistent rooms; nil keeps nothing across restarts.
	Rooms store.Rooms
	// Create says who may create a room by joining it (XEP-0045
	// §10.1.1): CreateLocal (the default: accounts of the router's
	// domain), CreateAnyone, or CreateAdmins (only Admins). Others get
	// <not-allowed/>. SetCreatePolicy changes it on a running service.
	Create string
	// Admins are the bare JIDs that may create rooms under CreateAdmins,
	// and that no room limit applies to.
	Admins []jid.JID
	// MaxRooms is how many rooms one user may have created that exist
	// at once (default DefaultMaxRooms); a creation beyond it gets
	// <not-allowed/>. MaxPersistentRooms is how many of them may be
	// persistent (default DefaultMaxPersistentRooms); making one more
	// persistent gets <policy-violation/>. See quota.go.
	MaxRooms           int
	MaxPersistentRooms int
	// MaxVCardSize bounds a room's vCard (its avatar) in serialised
	// bytes (default DefaultMaxVCardSize); a larger one gets
	// <policy-violation/>.
	MaxVCardSize int
	// HistorySize is how many groupchat messages a room keeps for history
	// on join (default 50; negative keeps none).
	HistorySize int
	// Name is the service's disco identity name (default "Chatrooms").
	Name string
	// Archive keeps the archives of persistent rooms (XEP-0313 §5); nil
	// archives nothing. It must accept a room's bare JID as owner and
	// know the rooms of Rooms (SQLite: schema 4).
	Archive store.Archives
	// Required is compliance mode (`[archive] required`, docs/design/06):
	// a message to an archived room is broadcast only once the archive
	// holds it; one whose write fails reaches nobody and bounces to its
	// sender with resource-constraint (wait).
	Required bool
	// ArchiveLimits bound one query of a room's archive, as the users'
	// archives are bound (`[archive]` search_max_bytes, search_max_words,
	// query_timeout); zero fields are mam's defaults.
	ArchiveLimits mam.Limits
	// OnGroupchat, if set, sees every groupchat message as the room
	// broadcasts it (from room/nick, stanza-id stamped, no 'to'): the
	// room archive hooks in here. It is called without the room's lock.
	OnGroupchat func(ctx context.Context, room jid.JID, st *stanza.Stanza)
	// OnDestroy, if set, is told of every room destroyed by its owner
	// (§10.9, by is the owner's full JID) or through DestroyRoom (by is
	// zero): the audit log hooks in here. It is called under the room's
	// lock and must not call back into the service.
	OnDestroy func(room, by jid.JID, reason string)
	// Admit, if set, may refuse a user entering a room (not another
	// session of an occupant) with a stanza error, given the bare JIDs of
	// the occupants: information barriers hook in here. It is called
	// under the room's lock and must not call back into the service.
	Admit func(room, joiner jid.JID, occupants []jid.JID) error
	// Log reports store failures; nil uses slog.Default.
	Log *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Module is the MUC service, a component on its own domain.
type Module struct {
	jid    jid.JID
	router Router
	opts   Options

	policy atomic.Pointer[createPolicy] // who may create rooms

	mu    sync.Mutex // guards rooms, created and listing
	rooms map[jid.JID]*room
	// created indexes stored rooms by their creator's bare JID; nil
	// until first read from the store (quota.go).
	created map[jid.JID]map[jid.JID]bool
	// listing is the public room list (disco#items), nil until built;
	// listingGen counts its invalidations (iq.go).
	listing    []listedRoom
	listingGen uint64
}

// New returns the service; Register installs it on a router.
func New(opts Options) *Module {
	if opts.HistorySize == 0 {
		opts.HistorySize = 50
	}
	defaults.Positive(&opts.MaxRooms, DefaultMaxRooms)
	defaults.Positive(&opts.MaxPersistentRooms, DefaultMaxPersistentRooms)
	defaults.Positive(&opts.MaxVCardSize, DefaultMaxVCardSize)
	if opts.Name == "" {
		opts.Name = "Chatrooms"
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Module{jid: opts.JID, opts: opts, rooms: make(map[jid.JID]*room)}
	s.SetCreatePolicy(opts.Create, opts.Admins)
	return s
}

// Register makes the module the handler of its domain (every stanza to
// the service or its rooms) and keeps r to send with.
func (s *Module) Register(r *router.Router) {
	s.router = r
	if s.jid.IsZero() {
		s.jid = jid.MustParse("conference." + r.Domain().String())
	}
	r.HandleDomain(s.jid.String(), s.Handle)
}

// JID is the service's domain JID.
func (s *Module) JID() jid.JID { return s.jid }

// Handle receives every stanza addressed to the service or its rooms.
func (s *Module) Handle(ctx context.Context, st *stanza.Stanza) {
	if st.From.IsZero() {
		return // nobody to answer
	}
	if st.To.Local() == "" {
		s.handleService(ctx, st)
		return
	}
	switch st.Kind {
	case stanza.Presence:
		s.handlePresence(ctx, st)
	case stanza.Message:
		s.handleMessage(ctx, st)
	case stanza.IQ:
		s.handleIQ(ctx, st)
	}
}

// bounce answers st with an error from wherever it was addressed.
func (s *Module) bounce(ctx context.Context, st *stanza.Stanza, e *stanza.Error) {
	if r := stanza.ErrorReply(st, e); r != nil {
		s.router.Send(ctx, r)
	}
}

// errNoRoom: the room does not exist (and was not created).
var errNoRoom = errors.New("muc: no such room")

// lookup returns the live room, loading a persistent one from the store.
// It returns errNoRoom if there is none.
func (s *Module) lookup(ctx context.Context, bare jid.JID) (*room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rm := s.rooms[bare]; rm != nil {
		return rm, nil
	}
	if s.opts.Rooms == nil {
		return nil, errNoRoom
	}
	rm, err := s.load(ctx, bare)
	if err != nil {
		return nil, err
	}
	s.rooms[bare] = rm
	return rm, nil
}

// create makes a new room owned by creator, locked until configured
// (§10.1.1), unless one appeared meanwhile: then that one is returned
// with created false. A room a user creates by joining (byUser) counts
// against their limits (quota.go), and a creation beyond them returns
// the *stanza.Error to answer; an operator's does not.
func (s *Module) create(ctx context.Context, bare jid.JID, creator jid.JID, byUser bool) (rm *room, created bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rm := s.rooms[bare]; rm != nil {
		return rm, false, nil
	}
	if s.opts.Rooms != nil {
		rm, err := s.load(ctx, bare)
		if err == nil {
			s.rooms[bare] = rm
			return rm, false, nil
		}
		if !errors.Is(err, errNoRoom) {
			return nil, false, err
		}
	}
	cfg := DefaultConfig()
	if byUser {
		if err := s.mayCreateAnother(ctx, creator); err != nil {
			return nil, false, err
		}
		cfg.Creator = creator.Bare().String()
	}
	rm = newRoom(s, bare, cfg)
	rm.locked = true
	rm.affs[creator.Bare()] = Owner
	s.rooms[bare] = rm
	return rm, true, nil
}

// forget drops a room from memory if it is still the live one.
func (s *Module) forget(rm *room) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rooms[rm.jid] == rm {
		delete(s.rooms, rm.jid)
		s.invalidateListing()
	}
}

// listingChanged drops the cached room list after a change of rm that
// may show in it (configuration). The caller holds rm.mu.
func (rm *room) listingChanged() {
	rm.svc.mu.Lock()
	defer rm.svc.mu.Unlock()
	rm.svc.invalidateListing()
}

// liveRooms returns a snapshot of the rooms in memory.
func (s *Module) liveRooms() []*room {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*room, 0, len(s.rooms))
	for _, rm := range s.rooms {
		out = append(out, rm)
	}
	return out
}

func (s *Module) now() time.Time { return s.opts.Now() }
