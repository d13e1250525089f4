package router

import (
	"context"
	"errors"
	"sync"
	"time"

	"parley/internal/jid"
	"parley/internal/stanza"
)

// QueryTimeout is how long Query waits for an answer when ctx has no
// earlier deadline.
const QueryTimeout = 30 * time.Second

// maxQueries bounds the IQs the server may have outstanding at once, so
// that entities which never answer cannot grow the pending map.
const maxQueries = 4096

// ErrTooManyQueries is returned by Query when maxQueries are outstanding.
var ErrTooManyQueries = errors.New("router: too many outstanding queries")

// queries are the IQs the server sent and awaits answers to, by id.
type queries struct {
	mu      sync.Mutex // guards pending
	pending map[string]query
}

type query struct {
	to     jid.JID // the only entity whose answer is accepted
	answer chan *stanza.Stanza
}

// Query sends an IQ get or set from the server to a JID (iq's 'to'; its
// id is set here, and its 'from' is the server's domain unless the caller
// set a local account's bare JID: a service acting for the account, such
// as push notifications, XEP-0357 §7) and waits for the result or error, until
// ctx ends or QueryTimeout passes. The answer is returned whatever its
// type; an error means there was none. The caller must not wait for the
// answer on the path that reads it (a session's own read loop).
func (r *Router) Query(ctx context.Context, iq *stanza.Stanza) (*stanza.Stanza, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	id := stanza.NewID()
	q := query{to: iq.To, answer: make(chan *stanza.Stanza, 1)}
	r.queries.mu.Lock()
	if len(r.queries.pending) >= maxQueries {
		r.queries.mu.Unlock()
		return nil, ErrTooManyQueries
	}
	if r.queries.pending == nil {
		r.queries.pending = make(map[string]query)
	}
	r.queries.pending[id] = q
	r.queries.mu.Unlock()
	defer func() {
		r.queries.mu.Lock()
		delete(r.queries.pending, id)
		r.queries.mu.Unlock()
	}()

	out := iq.Copy()
	out.ID = id
	out.El.Set("id", id)
	if !r.IsLocal(iq.From) || !iq.From.IsBare() || iq.From.Local() == "" {
		out.SetFrom(r.domainJID)
	}
	r.Send(ctx, out)
	select {
	case a := <-q.answer:
		return a, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// answered hands an IQ result or error addressed to the server to the
// Query waiting for it. RFC 6120 §8.2.3: only the entity asked may
// answer (an error the router bounces on its behalf comes from it too).
func (r *Router) answered(st *stanza.Stanza) {
	r.queries.mu.Lock()
	q, ok := r.queries.pending[st.ID]
	if ok && q.to == st.From {
		delete(r.queries.pending, st.ID)
	}
	r.queries.mu.Unlock()
	if ok && q.to == st.From {
		q.answer <- st // buffered, and delivered at most once
	}
}

// Outstanding is the number of queries awaiting an answer (for tests).
func (r *Router) Outstanding() int {
	r.queries.mu.Lock()
	defer r.queries.mu.Unlock()
	return len(r.queries.pending)
}
