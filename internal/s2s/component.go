package s2s

import (
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"html"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"parley/internal/defaults"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/transport"
	"parley/internal/xmlstream"
)

// NSComponent is the namespace of external component streams (XEP-0114).
const NSComponent = "jabber:component:accept"

// ComponentOptions configure the external components' listener.
type ComponentOptions struct {
	// Secrets are the components: each domain with its shared secret.
	Secrets map[string]string
	// Limits bound the XML a component sends (the c2s limits).
	Limits xmlstream.Limits
	// Timeout bounds the handshake (DefaultTimeout).
	Timeout time.Duration
	// MaxQueue bounds the stanzas waiting to be written to one component
	// (DefaultMaxQueue); beyond it they bounce with resource-constraint.
	MaxQueue int
	Log      *slog.Logger
}

// Components accepts external components (XEP-0114): a gateway or bot
// connects to the component listener, proves the secret it shares with
// the server, and from then on is the domain it named: the router hands
// it every stanza for that domain, and it sends stanzas from it.
type Components struct {
	o   ComponentOptions
	r   Router
	log *slog.Logger

	mu     sync.Mutex
	live   map[string]*component // connected, by domain
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// component is one connected component.
type component struct {
	domain string
	queue  chan []byte // serialised stanzas for it
	done   chan struct{}
}

// NewComponents returns the listener's service.
func NewComponents(o ComponentOptions) *Components {
	defaults.Positive(&o.Timeout, DefaultTimeout)
	defaults.Positive(&o.MaxQueue, DefaultMaxQueue)
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Components{o: o, log: o.Log, live: map[string]*component{}, conns: map[net.Conn]struct{}{}}
}

// Domains are the configured components' domains, sorted.
func (cs *Components) Domains() []string {
	var ds []string
	for d := range cs.o.Secrets {
		ds = append(ds, d)
	}
	slices.Sort(ds)
	return ds
}

// Register routes each configured domain to its component.
func (cs *Components) Register(r *router.Router) {
	cs.r = r
	for d := range cs.o.Secrets {
		r.HandleDomain(d, func(ctx context.Context, st *stanza.Stanza) { cs.deliver(ctx, d, st) })
	}
}

// deliver queues st for the component of domain; while it is not
// connected, or too far behind, st bounces.
func (cs *Components) deliver(ctx context.Context, domain string, st *stanza.Stanza) {
	cs.mu.Lock()
	c := cs.live[domain]
	cs.mu.Unlock()
	if c == nil {
		cs.bounce(ctx, st, stanza.ErrServiceUnavailable.WithText("the component "+domain+" is not connected"))
		return
	}
	b := xmlstream.AppendIn(nil, renamespace(st.El, stanza.NSClient, NSComponent), NSComponent)
	select {
	case c.queue <- b:
	case <-c.done:
		cs.bounce(ctx, st, stanza.ErrServiceUnavailable.WithText("the component "+domain+" is not connected"))
	default:
		cs.bounce(ctx, st, stanza.ErrResourceConstraint.WithText("the component "+domain+" is too far behind"))
	}
}

func (cs *Components) bounce(ctx context.Context, st *stanza.Stanza, e *stanza.Error) {
	if reply := stanza.ErrorReply(st, e); reply != nil && !st.From.IsZero() {
		cs.r.Reply(ctx, reply)
	}
}

// Serve accepts components' streams on ln until it is closed.
func (cs *Components) Serve(ln net.Listener) error {
	return transport.Serve(ln, func(c net.Conn) {
		cs.mu.Lock()
		if cs.closed {
			cs.mu.Unlock()
			c.Close()
			return
		}
		cs.conns[c] = struct{}{}
		cs.wg.Add(1)
		cs.mu.Unlock()
		go func() {
			defer cs.wg.Done()
			err := cs.accept(c)
			cs.log.Info("component stream ended", "remote", c.RemoteAddr().String(), "err", err)
			cs.mu.Lock()
			delete(cs.conns, c)
			cs.mu.Unlock()
		}()
	})
}

// Close ends every component's stream and waits for them.
func (cs *Components) Close() {
	cs.mu.Lock()
	cs.closed = true
	for c := range cs.conns {
		c.Close()
	}
	cs.mu.Unlock()
	cs.wg.Wait()
}

// accept runs one component's stream: header, handshake (XEP-0114 §3),
// then stanzas both ways until either side ends it.
func (cs *Components) accept(conn net.Conn) error {
	defer conn.Close()
	pre := cs.o.Limits
	pre.MaxStanza = maxPreAuthElement
	st := newStream(conn, pre)
	st.ns = NSComponent
	conn.SetDeadline(time.Now().Add(cs.o.Timeout))
	c, err := cs.handshake(st)
	if err != nil {
		var se *stanza.StreamError
		if !errors.As(err, &se) {
			se = stanza.ErrStreamNotAuthorized
		}
		st.streamErr(se)
		return err
	}
	defer cs.gone(c)
	conn.SetDeadline(time.Time{}) // a component may be quiet for hours
	st.r.SetLimits(cs.o.Limits)
	go cs.write(st, c)
	err = cs.read(st, c)
	var se *stanza.StreamError
	if errors.As(err, &se) {
		st.streamErr(se)
	}
	return err
}

// handshake reads the header and the <handshake/> (XEP-0114 §3) and
// makes the component live; nil and an error on failure.
func (cs *Components) handshake(st *stream) (*component, error) {
	h, err := st.readHeader()
	if err != nil {
		return nil, err
	}
	id := newID()
	domain := h.Get("to")
	st.write([]byte("<?xml version='1.0'?><stream:stream xmlns='" + NSComponent +
		"' xmlns:stream='http://etherx.jabber.org/streams' from='" + html.EscapeString(domain) + "' id='" + id + "'>"))
	// The reader resolves namespaces: the default one shows in the
	// elements' Space (the handshake's, below), not as an attribute.
	if x := h.Get("xmlns"); x != "" && x != NSComponent {
		return nil, stanza.ErrStreamInvalidNamespace
	}
	secret, ok := cs.o.Secrets[domain]
	if !ok {
		return nil, stanza.ErrStreamHostUnknown
	}
	el, err := st.next()
	if err != nil {
		return nil, err
	}
	if el.Space != NSComponent {
		return nil, stanza.ErrStreamInvalidNamespace
	}
	if el.Name != "handshake" {
		return nil, stanza.ErrStreamNotAuthorized
	}
	sum := sha1.Sum([]byte(id + secret))
	want := hex.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(strings.TrimSpace(el.Text))), []byte(want)) != 1 {
		cs.log.Warn("component handshake refused: wrong secret", "domain", domain)
		return nil, stanza.ErrStreamNotAuthorized
	}
	c := &component{domain: domain, queue: make(chan []byte, cs.o.MaxQueue), done: make(chan struct{})}
	cs.mu.Lock()
	if cs.live[domain] != nil {
		cs.mu.Unlock()
		return nil, stanza.ErrStreamConflict.WithText("the component " + domain + " is already connected")
	}
	cs.live[domain] = c
	cs.mu.Unlock()
	if err := st.write([]byte("<handshake/>")); err != nil {
		cs.gone(c)
		return nil, err
	}
	cs.log.Info("component connected", "domain", domain)
	return c, nil
}

// gone takes a component off the routing; what waits for it bounces.
func (cs *Components) gone(c *component) {
	cs.mu.Lock()
	if cs.live[c.domain] == c {
		delete(cs.live, c.domain)
	}
	cs.mu.Unlock()
	close(c.done)
}

// write sends the queued stanzas until the component goes.
func (cs *Components) write(st *stream, c *component) {
	for {
		select {
		case b := <-c.queue:
			st.c.SetWriteDeadline(time.Now().Add(cs.o.Timeout))
			if err := st.write(b); err != nil {
				st.c.Close()
				return
			}
		case <-c.done:
			return
		}
	}
}

// read routes the component's stanzas: each must come from its domain
// (or a subdomain of it) and name a recipient (XEP-0114 §3; RFC 6120
// §4.9.3.9).
func (cs *Components) read(st *stream, c *component) error {
	for {
		el, err := st.next()
		if err != nil {
			return err
		}
		el = renamespace(el, NSComponent, stanza.NSClient)
		s, err := stanza.Parse(el)
		if s == nil {
			return stanza.ErrStreamBadFormat
		}
		if d := s.From.Domain(); s.From.IsZero() || (d != c.domain && !strings.HasSuffix(d, "."+c.domain)) {
			return stanza.ErrStreamInvalidFrom
		}
		if err != nil || s.To.IsZero() {
			if err == nil {
				err = stanza.ErrBadRequest.WithText("a component's stanza needs a 'to'")
			}
			var se *stanza.Error
			if errors.As(err, &se) {
				if reply := stanza.ErrorReply(s, se); reply != nil {
					cs.deliver(context.Background(), c.domain, reply)
				}
			}
			continue
		}
		cs.r.Send(context.Background(), s)
	}
}
