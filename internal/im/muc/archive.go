package muc

import (
	"context"
	"errors"
	"time"

	"parley/internal/im/mam"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Room archives (XEP-0313 §5, "Querying a MUC archive"). A persistent
// room archives its groupchat messages under its bare JID as the owner,
// each under the stanza-id the room stamped (by=room), as the occupants
// saw them (from room/nick, no 'to'). History on join (§7.2.14) is served
// from memory; a room read again from the store (after a restart) first
// fills it from its archive (history.go, loadHistory).
//
// Archiving is on for persistent rooms unless the owner turns off
// muc#roomconfig_enablearchiving (Prosody's field; the default, as on
// Prosody, is on). muc#roomconfig_enablelogging is about public logs and
// does not decide it. Temporary rooms are not archived: their archive
// would outlive them with nobody able to query it.

// maxArchiveBatch bounds one AppendArchive call (the SQLite backend takes
// at most 1000 messages at once).
const maxArchiveBatch = 500

// archiveRecord is one message the room archives, queued in the room's
// outbox with its deliveries. done is closed once the write is over
// (committed or failed, err says which), so the sender's stream
// management ack can wait for it (XEP-0198: acknowledged means stored).
type archiveRecord struct {
	id   string // the room's stanza-id
	at   time.Time
	done chan struct{}
	err  error // the write's failure, set before done closes
}

// wait blocks until the record is written or ctx ends and returns the
// write's failure. A nil record is no wait.
func (r *archiveRecord) wait(ctx context.Context) error {
	if r == nil {
		return nil
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return nil
	}
}

// errNotStored answers a message the room could not archive in
// compliance mode (Options.Required): it reached nobody, retry later (RFC
// 6120 §8.3.3.18, type wait), as the router answers a user's message.
var errNotStored = stanza.ErrResourceConstraint.WithText("the message could not be stored; try again later")

// archiving reports whether the room keeps an archive. The caller holds
// rm.mu.
func (rm *room) archiving() bool {
	return rm.svc.opts.Archive != nil && rm.stored() && !rm.cfg.NoArchive
}

// queueArchive queues a broadcast message for the archive, if the room
// archives and the message holds content worth keeping (the rules of the
// users' archives: bodies, retractions, reactions, encrypted payloads,
// hints). The caller holds rm.mu; flush writes it after the deliveries.
func (rm *room) queueArchive(t *template, id string) *archiveRecord {
	if !rm.archiving() || !mam.HasContent(t.el) {
		return nil
	}
	rec := &archiveRecord{id: id, at: rm.svc.now(), done: make(chan struct{})}
	rm.queue(delivery{tpl: t, rec: rec})
	return rec
}

// store does the store's part of a flushed batch in the room's order:
// the archive writes (as few store calls as the batch allows) and the
// tombstones, each after the writes queued before it (the moderated
// message may be among them). It returns the templates whose archive
// write failed (nil if none).
func (rm *room) store(ctx context.Context, batch []delivery) map[*template]bool {
	// The drainer may be any occupant's goroutine; its session ending
	// must not cancel writes of other senders' messages.
	ctx = context.WithoutCancel(ctx)
	var failed map[*template]bool
	var archive []delivery
	for _, d := range batch {
		switch {
		case d.rec != nil:
			archive = append(archive, d)
		case d.tomb != nil:
			failed = rm.writeArchive(ctx, archive, failed)
			archive = nil
			rm.writeTombstone(ctx, d.tomb)
		}
	}
	return rm.writeArchive(ctx, archive, failed)
}

// writeArchive appends archived messages in the room's order, at most
// maxArchiveBatch per store call, and adds the templates of those that
// failed to failed (made if nil), which it returns. Failures are logged;
// outside compliance mode the messages were delivered already.
func (rm *room) writeArchive(ctx context.Context, batch []delivery, failed map[*template]bool) map[*template]bool {
	for len(batch) > 0 {
		n := min(len(batch), maxArchiveBatch)
		msgs := make([]store.ArchivedMessage, n)
		for i, d := range batch[:n] {
			msgs[i] = store.ArchivedMessage{
				Owner:  rm.jid.String(),
				ID:     d.rec.id,
				With:   d.tpl.from.String(), // room/nick of the sender
				Stamp:  d.rec.at,
				Stanza: xmlstream.Append(nil, d.tpl.el), // declares xmlns='jabber:client'
				Text:   mam.SearchText(d.tpl.el),
			}
		}
		err := rm.svc.opts.Archive.AppendArchive(ctx, msgs)
		if err != nil {
			rm.svc.opts.Log.Error("muc: archive write failed", "room", rm.jid.String(), "messages", n, "err", err)
			if failed == nil {
				failed = make(map[*template]bool)
			}
		}
		for _, d := range batch[:n] {
			if err != nil {
				d.rec.err = err
				failed[d.tpl] = true
			}
			close(d.rec.done)
		}
		batch = batch[n:]
	}
	return failed
}

// mayReadArchive says whether a real JID may query the room's archive:
// a user with an occupant in the room (any of their sessions), or one
// with an affiliation of member or above (in a members-only room only
// they could ever read it). Outcasts never. The caller holds rm.mu.
func (rm *room) mayReadArchive(real jid.JID) bool {
	aff := rm.affiliation(real)
	if aff == Outcast {
		return false
	}
	if aff.rank() >= Member.rank() {
		return true
	}
	if rm.byReal[real] != nil {
		return true
	}
	bare := real.Bare()
	for _, o := range rm.occupants {
		if o.bare == bare {
			return true
		}
	}
	return false
}

// archiveIQ serves urn:xmpp:mam:2 requests addressed to the room: queries
// (results from the room's JID), the query form and #extended metadata.
// The access check holds the room's lock; the query itself does not.
func (s *Module) archiveIQ(ctx context.Context, rm *room, st *stanza.Stanza) {
	rm.mu.Lock()
	var deny *stanza.Error
	switch {
	case rm.gone || (rm.locked && rm.affiliation(st.From) != Owner):
		deny = stanza.ErrItemNotFound.WithText("no such room")
	case !rm.archiving():
		deny = stanza.ErrServiceUnavailable.WithText("this room keeps no archive")
	case !rm.mayReadArchive(st.From):
		deny = stanza.ErrForbidden.WithText("only occupants and members may read the room's archive")
	case st.Payload().Name == "prefs":
		deny = stanza.ErrFeatureNotImplemented.WithText("a room has no archiving preferences")
	}
	rm.mu.Unlock()
	if deny != nil {
		s.bounce(ctx, st, deny)
		return
	}
	adjust := func(req *mam.Request) error {
		// A room's archive records the sender's occupant JID (room/nick):
		// 'with' names an occupant, or the room itself for everything.
		switch w := req.With; {
		case w.IsZero():
		case w == rm.jid:
			req.Query.With = ""
		default:
			req.Query.With = w.String()
		}
		return nil
	}
	deliver := func(res *stanza.Stanza) bool {
		s.router.Send(ctx, res)
		return true
	}
	fin, err := s.opts.ArchiveLimits.Serve(ctx, s.opts.Archive, rm.jid.String(), rm.jid, st, adjust, deliver)
	var se *stanza.Error
	switch {
	case err == nil:
		s.router.Send(ctx, stanza.Result(st, fin))
	case errors.As(err, &se):
		s.bounce(ctx, st, se)
	case errors.Is(err, router.ErrNoReply):
	default:
		s.opts.Log.Error("muc: archive query failed", "room", rm.jid.String(), "err", err)
		s.bounce(ctx, st, stanza.ErrInternalServerError)
	}
}

// isArchiveIQ reports whether a request to a room is for its archive.
func isArchiveIQ(st *stanza.Stanza) bool {
	q := st.Payload()
	return q != nil && q.Space == mam.NS && st.To.IsBare() && (st.Type == "get" || st.Type == "set")
}

// archived reports whether the room's archive holds a message (a
// moderator may retract one older than the in-memory history). The
// caller holds rm.mu; this is a read of one row.
func (rm *room) archived(ctx context.Context, id string) bool {
	if !rm.archiving() {
		return false
	}
	p, err := rm.svc.opts.Archive.QueryArchive(ctx, rm.jid.String(), store.ArchiveQuery{IDs: []string{id}, Limit: 1})
	return err == nil && len(p.Messages) == 1
}

// tombstone is a moderated message to replace in the room's archive
// (XEP-0425 §5): marker is what it carries instead of its content.
type tombstone struct {
	id     string
	marker *xmlstream.Element
}

// writeTombstone replaces an archived message with its tombstone: it
// keeps its id, sender, stamp and metadata (stanza-id, occupant-id) and
// loses its body and every payload, through the store's one operation
// that removes archived content (where a legal hold can keep the
// original). A failure is logged: the retraction was delivered.
func (rm *room) writeTombstone(ctx context.Context, t *tombstone) {
	err := mam.RetractArchived(context.WithoutCancel(ctx), rm.svc.opts.Archive, rm.jid.String(), t.id, t.marker)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		rm.svc.opts.Log.Error("muc: archive tombstone failed", "room", rm.jid.String(), "id", t.id, "err", err)
	}
}
