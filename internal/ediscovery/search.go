package ediscovery

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"parley/internal/audit"
	"parley/internal/defaults"
	"parley/internal/store"
)

// Store is what e-discovery reads: the cross-archive search, one
// archive's conversations (the other party's copy of a message, its
// corrections and retractions) and the uploads' records.
type Store interface {
	store.ArchiveSearches
	SyncArchive(ctx context.Context) error
	QueryArchive(ctx context.Context, owner string, q store.ArchiveQuery) (store.ArchivePage, error)
	Upload(ctx context.Context, id string) (store.Upload, error)
	HeldMessages(ctx context.Context, q store.HeldQuery) ([]store.HeldMessage, error)
}

// Blobs opens stored uploads (upload.Dir).
type Blobs interface {
	Open(id string) (io.ReadSeekCloser, error)
}

// Auditor is the audit log (audit.Log): every search and export is
// recorded before its result is given.
type Auditor interface {
	Append(ctx context.Context, r audit.Record) (int64, error)
}

// Options configure the service.
type Options struct {
	Store  Store
	Domain string // the server's domain: usernames' archives are user@Domain
	// Blobs holds the uploads' bytes; nil exports no attachment.
	Blobs Blobs
	// Dir keeps the exports and their jobs' state (<data>/ediscovery).
	Dir string
	// Key signs export manifests: the audit log's key
	// (audit.LoadOrCreateKey), so that one public key verifies both.
	Key   ed25519.PrivateKey
	Audit Auditor
	// PageSize is how many messages an export reads per part (default
	// 500); each part is written and recorded before the next is read.
	PageSize int
	// AfterPart, if set, is called after each part an export job has
	// made durable (tests stop a job there to resume it).
	AfterPart func(j Job)
	Now       func() time.Time
	Log       *slog.Logger // nil: slog.Default()
}

// Service searches and exports.
type Service struct {
	o Options

	ctx    context.Context // ended by Close: stops the jobs
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex // guards running
	running map[string]bool
}

// New returns the service; Resume starts the jobs a restart interrupted,
// Close stops the running ones (they resume at the next start).
func New(o Options) *Service {
	defaults.Positive(&o.PageSize, 500)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	s := &Service{o: o, running: map[string]bool{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Close stops the running exports where they are and waits for them.
func (s *Service) Close() {
	s.cancel()
	s.wg.Wait()
}

// Page is one page of a search.
type Page struct {
	Messages []Message `json:"messages"`
	// Next is the cursor of the next page; "" when this is the last.
	Next string `json:"next,omitempty"`
}

// Search returns up to limit messages of q after cursor, each 1:1
// message once, and records the search in the audit log as done by
// actor (before answering: a search that cannot be recorded is refused).
func (s *Service) Search(ctx context.Context, q Query, cursor string, limit int, actor string) (Page, error) {
	if limit < 1 || limit > MaxPageSize {
		return Page{}, badQuery("limit: want 1 to %d", MaxPageSize)
	}
	after, err := decodeCursor(cursor)
	if err != nil {
		return Page{}, err
	}
	q, sc, err := q.normalize(s.o.Domain)
	if err != nil {
		return Page{}, err
	}
	if err := s.record(ctx, actor, "search", "", q, nil); err != nil {
		return Page{}, err
	}
	// Every message delivered before the search is in its answer.
	if err := s.o.Store.SyncArchive(ctx); err != nil {
		return Page{}, fmt.Errorf("ediscovery: %w", err)
	}
	msgs, next, more, err := s.scan(ctx, sc, after, limit)
	if err != nil {
		return Page{}, err
	}
	p := Page{Messages: msgs}
	if p.Messages == nil {
		p.Messages = []Message{}
	}
	if more {
		p.Next = next.String()
	}
	return p, nil
}

// record appends an audit record of a search or an export step.
func (s *Service) record(ctx context.Context, actor, op, job string, q Query, extra map[string]string) error {
	if s.o.Audit == nil {
		return nil
	}
	qj, _ := json.Marshal(q) // plain data always marshals
	d := map[string]string{"op": op, "query": string(qj)}
	for k, v := range extra {
		d[k] = v
	}
	r := audit.Record{Actor: actor, Action: audit.ActionExport, Outcome: audit.OutcomeSuccess, Details: d}
	if job != "" {
		r.Target = "ediscovery-job:" + job
	}
	if d["error"] != "" {
		r.Outcome = audit.OutcomeFailure
	}
	if _, err := s.o.Audit.Append(ctx, r); err != nil {
		return fmt.Errorf("ediscovery: audit: %w", err)
	}
	return nil
}

// scan reads the archives from pos on, then the originals legal holds
// keep, until it has limit messages, each 1:1 message once, and returns
// them with the position of what follows and whether anything may.
func (s *Service) scan(ctx context.Context, sc scope, pos position, limit int) ([]Message, position, bool, error) {
	var out []Message
	if !pos.held {
		q := sc.search
		q.Limit = limit
		var full bool
		var err error
		out, pos.seq, full, err = fill(out, pos.seq, limit, "search", func(after int64) ([]store.FoundMessage, error) {
			q.After = after
			return s.o.Store.SearchArchives(ctx, q)
		}, func(f store.FoundMessage) int64 { return f.Seq }, func(f store.FoundMessage) (Message, bool, error) {
			m := fromArchive(f, s.o.Domain)
			keep, err := s.dedup(ctx, sc, f, &m)
			if err == nil && keep && m.Retracted != nil {
				err = s.attachHeld(ctx, &m)
			}
			return m, keep, err
		})
		if err != nil || full {
			return out, pos, full, err
		}
		pos = position{held: true}
	}
	return s.scanHeld(ctx, sc, pos, limit, out)
}

// fill adds to out the messages msg builds and keeps of the items that
// read returns page by page from after on (up to limit items after a
// sequence number seq, in its order; its errors are named what), until
// out holds limit. It returns out, the sequence number of the last item
// read, and whether out filled up (false: the pages ran out).
func fill[T any](out []Message, after int64, limit int, what string, read func(after int64) ([]T, error),
	seq func(T) int64, msg func(T) (Message, bool, error)) ([]Message, int64, bool, error) {
	for {
		items, err := read(after)
		if err != nil {
			return nil, after, false, fmt.Errorf("ediscovery: %s: %w", what, err)
		}
		for _, it := range items {
			after = seq(it)
			m, keep, err := msg(it)
			if err != nil {
				return nil, after, false, err
			}
			if keep {
				out = append(out, m)
			}
			if len(out) == limit {
				return out, after, true, nil
			}
		}
		if len(items) < limit {
			return out, after, false, nil
		}
	}
}

// copyWindow is how far apart in time the two parties' copies of a 1:1
// message may be stamped: both are archived while the message is routed.
const copyWindow = time.Minute

// dedup decides whether m (found in f's archive) is reported: a 1:1
// message between two local users is archived by both; it is reported
// once, as the sender's copy with the recipient's among its Copies. The
// recipient's copy is reported only when the sender's is not there (the
// sender does not archive, or deleted it) or lies outside the search.
func (s *Service) dedup(ctx context.Context, sc scope, f store.FoundMessage, m *Message) (bool, error) {
	if strings.Contains(f.Owner, "@") || m.Type == "groupchat" || m.From == "" || m.To == "" {
		return true, nil // a room's archive, or not a 1:1 stanza
	}
	self := m.Archive
	from, to := bareOf(m.From), bareOf(m.To)
	var peer string
	switch {
	case from == self && to != self:
		peer = to
	case to == self && from != self:
		peer = from
	default:
		return true, nil
	}
	peerOwner, ok := strings.CutSuffix(peer, "@"+s.o.Domain)
	if !ok || strings.ContainsAny(peerOwner, "@/") {
		return true, nil // a remote party: only one copy here
	}
	c, found, err := s.counterpart(ctx, peerOwner, self, *m)
	if err != nil || !found {
		return true, err
	}
	if from == self || !sc.covers(peerOwner, self, c.Stamp) {
		m.Copies = append(m.Copies, Copy{Archive: c.Archive, ID: c.ID})
		return true, nil
	}
	return false, nil // the sender's copy is (or was) reported
}

// counterpart looks in owner's archive for its copy of m, a message of
// the conversation with with.
func (s *Service) counterpart(ctx context.Context, owner, with string, m Message) (Message, bool, error) {
	key := m.key()
	var found Message
	ok := false
	err := s.around(ctx, owner, with, m.Stamp, func(a store.ArchivedMessage) bool {
		if m.MessageID != "" && !bytes.Contains(a.Stanza, []byte(m.MessageID)) {
			return false // cannot be the same message: spare the parse
		}
		found = fromArchive(store.FoundMessage{ArchivedMessage: a}, s.o.Domain)
		ok = found.key() == key
		return ok
	})
	return found, ok && err == nil, err
}

// around calls f with each message of owner's conversation with with
// stamped within copyWindow of at, in pages, until f returns true.
func (s *Service) around(ctx context.Context, owner, with string, at time.Time, f func(store.ArchivedMessage) bool) error {
	q := store.ArchiveQuery{With: with, Start: at.Add(-copyWindow), End: at.Add(copyWindow), Limit: 100}
	for {
		p, err := s.o.Store.QueryArchive(ctx, owner, q)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ediscovery: %w", err)
		}
		for _, a := range p.Messages {
			if f(a) {
				return nil
			}
		}
		if p.Complete || len(p.Messages) == 0 {
			return nil
		}
		q.After = p.Messages[len(p.Messages)-1].ID
	}
}
