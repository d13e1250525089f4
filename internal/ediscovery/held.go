package ediscovery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"parley/internal/store"
)

// Held is the original of a message that a legal hold kept when it was
// retracted, moderated or deleted: what users no longer see.
type Held struct {
	Cause       string    `json:"cause"` // retracted (its tombstone is in the archive) or deleted
	Kept        time.Time `json:"kept"`  // when the hold kept it
	Subject     string    `json:"subject,omitempty"`
	Body        string    `json:"body,omitempty"`
	Thread      string    `json:"thread,omitempty"`
	Attachments []string  `json:"attachments,omitempty"`
	Stanza      string    `json:"stanza"`
}

// heldOf reads a kept original.
func heldOf(h store.HeldMessage, domain string) *Held {
	o := fromArchive(store.FoundMessage{ArchivedMessage: h.Message}, domain)
	return &Held{Cause: h.Cause, Kept: h.Held.UTC(), Subject: o.Subject, Body: o.Body, Thread: o.Thread,
		Attachments: o.Attachments, Stanza: o.Stanza}
}

// ownerOf is the store's owner of an archive's JID: the username on the
// server's domain, or the room's JID.
func (s *Service) ownerOf(archive string) string {
	if u, ok := strings.CutSuffix(archive, "@"+s.o.Domain); ok && !strings.Contains(u, "@") {
		return u
	}
	return archive
}

// attachHeld adds to a tombstone the original a hold kept, from its own
// archive or, failing that, from a copy's (the other party's).
func (s *Service) attachHeld(ctx context.Context, m *Message) error {
	where := []Copy{{Archive: m.Archive, ID: m.ID}}
	where = append(where, m.Copies...)
	for _, c := range where {
		h, ok, err := s.heldAt(ctx, s.ownerOf(c.Archive), c.ID, m.Stamp)
		if err != nil || ok {
			m.Held = h
			return err
		}
	}
	return nil
}

// heldAt returns the original owner's archive kept of its message id,
// stamped at.
func (s *Service) heldAt(ctx context.Context, owner, id string, at time.Time) (*Held, bool, error) {
	hs, err := s.o.Store.HeldMessages(ctx, store.HeldQuery{Owner: owner, Start: at.Add(-copyWindow), End: at.Add(copyWindow), Limit: 1000})
	if err != nil {
		return nil, false, fmt.Errorf("ediscovery: held messages: %w", err)
	}
	for _, h := range hs {
		if h.Message.ID == id {
			return heldOf(h, s.o.Domain), true, nil
		}
	}
	return nil, false, nil
}

// scanHeld goes on from pos among the originals holds keep, adding to out
// until it holds limit messages. It reports an original the archives'
// pass did not: one deleted, or, in a search for words, one retracted
// (its tombstone has no words) whose original has them. 1:1 originals
// kept by both parties are reported once, as the sender's.
func (s *Service) scanHeld(ctx context.Context, sc scope, pos position, limit int, out []Message) ([]Message, position, bool, error) {
	q := store.HeldQuery{Start: sc.search.Start, End: sc.search.End, Limit: limit}
	out, seq, full, err := fill(out, pos.seq, limit, "held messages", func(after int64) ([]store.HeldMessage, error) {
		q.After = after
		return s.o.Store.HeldMessages(ctx, q)
	}, func(h store.HeldMessage) int64 { return h.Seq }, func(h store.HeldMessage) (Message, bool, error) {
		return s.heldMessage(ctx, sc, h)
	})
	pos.seq = seq
	return out, pos, full, err
}

// heldMessage decides whether a kept original is reported by the held
// pass and builds it: the message as it was, its tombstone's state if
// the archive still has one, the original under Held.
func (s *Service) heldMessage(ctx context.Context, sc scope, h store.HeldMessage) (Message, bool, error) {
	o := h.Message
	if !sc.finds(o) {
		return Message{}, false, nil
	}
	tomb, err := s.o.Store.QueryArchive(ctx, o.Owner, store.ArchiveQuery{IDs: []string{o.ID}, Limit: 1})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Message{}, false, fmt.Errorf("ediscovery: %w", err)
	}
	hasTomb := err == nil && len(tomb.Messages) == 1
	if hasTomb && sc.search.Text == "" {
		return Message{}, false, nil // the archives' pass reported its tombstone, with it
	}
	m := fromArchive(store.FoundMessage{ArchivedMessage: o}, s.o.Domain)
	if hasTomb {
		m.Retracted = fromArchive(store.FoundMessage{ArchivedMessage: tomb.Messages[0]}, s.o.Domain).Retracted
	}
	m.Held = heldOf(h, s.o.Domain)
	keep, err := s.dedupHeld(ctx, sc, &m)
	return m, keep, err
}

// dedupHeld is dedup for kept originals: the recipient's is dropped when
// the sender's is kept too (and reported), else it names the other.
func (s *Service) dedupHeld(ctx context.Context, sc scope, m *Message) (bool, error) {
	if strings.Contains(m.owner, "@") || m.Type == "groupchat" || m.From == "" || m.To == "" {
		return true, nil
	}
	self, from, to := m.Archive, bareOf(m.From), bareOf(m.To)
	peer := to
	if to == self {
		peer = from
	}
	peerOwner, ok := strings.CutSuffix(peer, "@"+s.o.Domain)
	if peer == self || !ok || strings.ContainsAny(peerOwner, "@/") {
		return true, nil
	}
	key := m.key()
	// The other party's archive still holds it, and the archives' pass
	// reported that copy.
	reported := false
	err := s.around(ctx, peerOwner, self, m.Stamp, func(a store.ArchivedMessage) bool {
		reported = sc.finds(a) && fromArchive(store.FoundMessage{ArchivedMessage: a}, s.o.Domain).key() == key
		return reported
	})
	if err != nil || reported {
		return false, err
	}
	hs, err := s.o.Store.HeldMessages(ctx, store.HeldQuery{Owner: peerOwner, Start: m.Stamp.Add(-copyWindow), End: m.Stamp.Add(copyWindow), Limit: 1000})
	if err != nil {
		return false, fmt.Errorf("ediscovery: held messages: %w", err)
	}
	for _, h := range hs {
		c := fromArchive(store.FoundMessage{ArchivedMessage: h.Message}, s.o.Domain)
		if c.key() != key {
			continue
		}
		if from == self || !sc.finds(h.Message) {
			m.Copies = append(m.Copies, Copy{Archive: c.Archive, ID: c.ID})
			return true, nil
		}
		return false, nil
	}
	return true, nil
}
