package proxy65

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/service"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Namespaces.
const (
	NS          = "http://jabber.org/protocol/bytestreams" // XEP-0065
	NSDiscoInfo = "http://jabber.org/protocol/disco#info"
	NSDiscoItem = "http://jabber.org/protocol/disco#items"
)

// Defaults of the limits (docs/SECURITY.md).
const (
	DefaultMaxConnections    = 1000
	DefaultMaxConnectionsIP  = 20
	DefaultMaxStreamsPerUser = 5
	DefaultBytesPerSecond    = 4 << 20 // per stream and direction
	DefaultIdleTimeout       = time.Minute
)

// Options configure the proxy. Zero limits are the defaults.
type Options struct {
	// JID is the service's address; zero is proxy.<the router's domain>.
	JID jid.JID
	// Host and Port are the network address announced in <streamhost/>
	// (XEP-0065 §4): what clients connect to, which behind NAT or a
	// load balancer is not the listener's. An empty Host is the
	// listener's IP when it listens on one, else the domain; Port 0 is
	// the listener's.
	Host string
	Port int
	// MaxConnections bounds the open SOCKS5 connections; beyond it a new
	// one is closed at once.
	MaxConnections int
	// MaxConnectionsPerIP bounds them per client address (XEP-0065
	// §11.3: connections that are never activated are the proxy's
	// denial of service), closed the same way.
	MaxConnectionsPerIP int
	// MaxStreamsPerUser bounds the streams one initiator (bare JID) may
	// have active; an activation beyond it gets <resource-constraint/>.
	MaxStreamsPerUser int
	// BytesPerSecond bounds each stream in each direction (a token
	// bucket holding a quarter second's worth, at least 16 KiB).
	BytesPerSecond int
	// IdleTimeout is how long a connection may wait, from its arrival,
	// for its peer and the activation; then it is closed.
	IdleTimeout time.Duration
	// Log reports refused connections; nil is slog.Default.
	Log *slog.Logger
}

// Module is the proxy: its XMPP service and its SOCKS5 listener.
type Module struct {
	opts   Options
	jid    jid.JID
	domain jid.JID
	router *router.Router

	// addr is the announced streamhost, set by Serve.
	addr atomic.Pointer[streamhost]

	done chan struct{} // closed by Close
	wg   sync.WaitGroup

	mu      sync.Mutex // guards closed, conns, perIP, streams and active
	closed  bool
	conns   map[net.Conn]netip.Addr // open connections, by remote address
	perIP   map[netip.Addr]int
	streams map[string]*stream // by hash, until both connections finish
	active  map[jid.JID]int    // activated streams by initiator's bare JID

	// throttled is the total wait the token buckets imposed, in
	// nanoseconds; discarded counts bytes dropped before activations
	// (tests).
	throttled atomic.Int64
	discarded atomic.Int64
}

type streamhost struct {
	host string
	port int
}

// New returns the proxy; Register installs its service and Serve its
// listener.
func New(o Options) *Module {
	defaults.Positive(&o.MaxConnections, DefaultMaxConnections)
	defaults.Positive(&o.MaxConnectionsPerIP, DefaultMaxConnectionsIP)
	defaults.Positive(&o.MaxStreamsPerUser, DefaultMaxStreamsPerUser)
	defaults.Positive(&o.BytesPerSecond, DefaultBytesPerSecond)
	defaults.Positive(&o.IdleTimeout, DefaultIdleTimeout)
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Module{opts: o, jid: o.JID, done: make(chan struct{}),
		conns: make(map[net.Conn]netip.Addr), perIP: make(map[netip.Addr]int), streams: make(map[string]*stream), active: make(map[jid.JID]int)}
}

// Register makes the module the handler of its domain.
func (m *Module) Register(r *router.Router) {
	m.router = r
	m.domain = r.Domain()
	if m.jid.IsZero() {
		m.jid = jid.MustParse("proxy." + r.Domain().String())
	}
	r.HandleDomain(m.jid.String(), m.Handle)
}

// JID is the service's address.
func (m *Module) JID() jid.JID { return m.jid }

// Handle answers the stanzas sent to the service.
func (m *Module) Handle(ctx context.Context, st *stanza.Stanza) {
	q := service.Request(ctx, m.router.Send, st)
	if q == nil {
		return
	}
	switch {
	case q.Space == NSDiscoInfo && q.Name == "query" && st.Type == "get" && q.Get("node") == "":
		m.router.Send(ctx, stanza.Result(st, xmlstream.New("query", NSDiscoInfo).Add(
			xmlstream.New("identity", NSDiscoInfo, "category", "proxy", "type", "bytestreams", "name", "SOCKS5 Bytestreams"),
			xmlstream.New("feature", NSDiscoInfo, "var", NSDiscoInfo),
			xmlstream.New("feature", NSDiscoInfo, "var", NS))))
	case q.Space == NSDiscoItem && q.Name == "query" && st.Type == "get":
		m.router.Send(ctx, stanza.Result(st, xmlstream.New("query", NSDiscoItem)))
	case q.Space == NS && q.Name == "query" && st.Type == "get":
		res, err := m.streamhost(st)
		service.Answer(ctx, m.router.Send, m.opts.Log, st, res, err)
	case q.Space == NS && q.Name == "query" && st.Type == "set" && q.Child("activate", NS) != nil:
		service.Answer(ctx, m.router.Send, m.opts.Log, st, nil, m.activateIQ(st, q))
	default:
		service.Refuse(ctx, m.router.Send, st, stanza.ErrServiceUnavailable)
	}
}

// streamhost answers the request for the proxy's address (XEP-0065
// §4). The proxy serves this server's users: anyone else is
// <forbidden/>, as the XEP says for a requester without permission.
func (m *Module) streamhost(st *stanza.Stanza) (*xmlstream.Element, error) {
	if st.From.Domain() != m.domain.String() || st.From.Local() == "" {
		return nil, stanza.ErrForbidden.WithText("the proxy serves this server's users")
	}
	a := m.addr.Load()
	if a == nil {
		// §4: a proxy unable to act as a StreamHost says not-allowed.
		return nil, stanza.ErrNotAllowed.WithText("the proxy is not listening")
	}
	return xmlstream.New("query", NS).Add(xmlstream.New("streamhost", NS,
		"jid", m.jid.String(), "host", a.host, "port", strconv.Itoa(a.port))), nil
}

// activateIQ handles the initiator's <activate/> (XEP-0065 §6.3.5).
func (m *Module) activateIQ(st *stanza.Stanza, q *xmlstream.Element) error {
	if st.From.Domain() != m.domain.String() || st.From.Local() == "" {
		return stanza.ErrForbidden.WithText("the proxy serves this server's users")
	}
	sid := q.Get("sid")
	if sid == "" {
		return stanza.ErrBadRequest.WithText("activation needs a sid")
	}
	target, err := jid.Parse(strings.TrimSpace(q.ChildText("activate", NS)))
	if err != nil {
		return stanza.ErrJIDMalformed.WithText("<activate/> must hold the target's JID")
	}
	return m.activate(StreamHash(sid, st.From, target), st.From)
}

// StreamHash names a stream: SHA-1(SID + initiator JID + target JID) in
// hex (XEP-0065 §6.3.2), over the JIDs' normalised forms (RFC 7622,
// which is what jid.Parse gives).
func StreamHash(sid string, initiator, target jid.JID) string {
	sum := sha1.Sum([]byte(sid + initiator.String() + target.String()))
	return hex.EncodeToString(sum[:])
}

// activate starts relaying the stream named hash for its initiator, who
// is the only one that can name it (the router stamped 'from'). Errors
// per XEP-0065 §6.3.5: no such stream (a wrong SID, or a requester that
// is not the initiator) is <item-not-found/>; one party missing is
// <not-allowed/>; a stream already active is <not-acceptable/>; an
// initiator at its stream limit gets <resource-constraint/>.
func (m *Module) activate(hash string, initiator jid.JID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.streams[hash]
	switch {
	case s == nil:
		return stanza.ErrItemNotFound.WithText("no connection for that stream")
	case s.activated:
		return stanza.ErrNotAcceptable.WithText("the stream is already active")
	case s.conns[1] == nil:
		return stanza.ErrNotAllowed.WithText("only one party is connected")
	case m.active[initiator.Bare()] >= m.opts.MaxStreamsPerUser:
		m.opts.Log.Info("proxy65: stream limit reached", "jid", initiator.Bare().String(),
			"limit", m.opts.MaxStreamsPerUser)
		return stanza.ErrResourceConstraint.WithText("too many active streams (at most " +
			strconv.Itoa(m.opts.MaxStreamsPerUser) + ")")
	}
	s.activated = true
	s.owner = initiator.Bare()
	m.active[s.owner]++
	// Wake both connections' goroutines, waiting in a read (await).
	now := time.Now()
	s.conns[0].SetReadDeadline(now)
	s.conns[1].SetReadDeadline(now)
	return nil
}
