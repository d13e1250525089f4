package disco

import (
	"context"
	"slices"
	"strings"
	"sync"

	"parley/internal/defaults"
	"parley/internal/entitycaps"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/rsm"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Namespaces of XEP-0030.
const (
	NSInfo  = "http://jabber.org/protocol/disco#info"
	NSItems = "http://jabber.org/protocol/disco#items"
)

// Features lists the features registered by server modules; *router.Router
// provides it.
type Features interface {
	Features() []string
}

// Item is one entry of the domain's disco#items (XEP-0030 §4.1).
type Item struct {
	JID  jid.JID
	Name string
}

// DefaultPageSize is how many items a disco#items reply carries at most,
// unless Options.PageSize says otherwise; longer lists are paged with
// result sets (XEP-0059).
const DefaultPageSize = 100

// Options are the module's dependencies and limits.
type Options struct {
	// Domain is the served domain; zero means the router's, at Register.
	Domain jid.JID
	// Features lists the server's features; nil means the router's.
	Features Features
	// PageSize bounds the items of one disco#items reply; 0 means
	// DefaultPageSize.
	PageSize int
	// Bot tells whether an account is a bot (store.User.Bot); its bare
	// JID then has the identity client/bot besides account/registered.
	// Nil: none is.
	Bot func(ctx context.Context, username string) bool
}

// Module answers disco#info and disco#items queries.
type Module struct {
	domain   jid.JID
	features Features
	name     string
	pageSize int
	bot      func(ctx context.Context, username string) bool

	mu      sync.RWMutex // guards items, account, accountIDs, nodes and forms
	items   []Item
	account []string
	// accountIDs are identities beyond account/registered, as
	// category/type pairs (e.g. pubsub/pep, XEP-0163 §6.1).
	accountIDs [][2]string
	// nodes answer queries about the server's nodes; forms extend its
	// disco#info (XEP-0128).
	nodes []NodeHandler
	forms []*xmlstream.Element

	// caps is Caps' answer, computed at the first login rather than at
	// every one (the domain's disco#info is fixed once the server
	// listens); AddServerForm clears it.
	capsMu sync.Mutex
	caps   *xmlstream.Element
}

// NodeHandler answers a disco#info or disco#items query (iq) about one of
// the server's nodes (XEP-0030 §3.2, §4.2), such as the ad-hoc commands
// of XEP-0050 §2. It returns the <query/> payload, found false when the
// node is not its own, or a *stanza.Error.
type NodeHandler func(ctx context.Context, iq *stanza.Stanza, node string) (res *xmlstream.Element, found bool, err error)

// New returns the module; install it with Register.
func New(o Options) *Module {
	defaults.Positive(&o.PageSize, DefaultPageSize)
	return &Module{domain: o.Domain, features: o.Features, name: "parley", pageSize: o.PageSize, bot: o.Bot}
}

// Register installs the IQ handlers on r. Disco's own features need no
// r.AddFeature: they are always part of the answer.
func (m *Module) Register(r *router.Router) {
	if m.domain.IsZero() {
		m.domain = r.Domain()
	}
	if m.features == nil {
		m.features = r
	}
	r.HandleIQ(NSInfo, m.HandleInfo)
	r.HandleIQ(NSItems, m.HandleItems)
}

// AddItem lists an entity (typically a component's domain) in the domain's
// disco#items. Adding the same JID again replaces its name.
func (m *Module) AddItem(j jid.JID, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.items {
		if m.items[i].JID == j {
			m.items[i].Name = name
			return
		}
	}
	m.items = append(m.items, Item{JID: j, Name: name})
}

// AddAccountFeature advertises a feature on every account's bare JID (for
// example PEP or MAM, which the server provides per account).
func (m *Module) AddAccountFeature(vars ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.account = append(m.account, vars...)
}

// AddAccountIdentity advertises an identity on every account's bare JID,
// such as pubsub/pep, which clients look for before they use PEP.
func (m *Module) AddAccountIdentity(category, typ string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.accountIDs = append(m.accountIDs, [2]string{category, typ})
}

// AddNodes lets h answer queries about nodes of the domain; handlers are
// asked in the order added, and a node none has is item-not-found.
func (m *Module) AddNodes(h NodeHandler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes = append(m.nodes, h)
}

// AddServerForm extends the domain's disco#info with a data form
// (XEP-0128), such as XEP-0157's contact addresses; x must not be changed
// afterwards.
func (m *Module) AddServerForm(x *xmlstream.Element) {
	m.mu.Lock()
	m.forms = append(m.forms, x)
	m.mu.Unlock()
	m.capsMu.Lock()
	m.caps = nil
	m.capsMu.Unlock()
}

// node answers a query about a node: only the domain has nodes.
func (m *Module) node(ctx context.Context, iq *stanza.Stanza, node string) (*xmlstream.Element, error) {
	if m.target(iq) != server {
		return nil, stanza.ErrItemNotFound
	}
	if iq.Payload().Space == NSInfo {
		if res, ok := m.capsInfo(node); ok {
			return res, nil
		}
	}
	m.mu.RLock()
	nodes := m.nodes
	m.mu.RUnlock()
	for _, h := range nodes {
		res, found, err := h(ctx, iq, node)
		if err != nil || found {
			return res, err
		}
	}
	// XEP-0030 §3.1, §4.1: a node the entity does not have.
	return nil, stanza.ErrItemNotFound
}

// target says whom a query is about: the server, or a local account.
type target int

const (
	none target = iota
	server
	account
)

func (m *Module) target(iq *stanza.Stanza) target {
	switch {
	case iq.To.IsZero():
		// RFC 6120 §10.3.3: no 'to' means the sender's own account.
		return account
	case iq.To == m.domain:
		return server
	case iq.To.IsBare() && iq.To.Domain() == m.domain.String():
		// The router passes queries to a bare JID on only for existing
		// accounts (RFC 6121 §8.5.1 answers the others).
		return account
	}
	return none
}

// HandleInfo answers disco#info (XEP-0030 §3).
func (m *Module) HandleInfo(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	if err := check(iq); err != nil {
		return nil, err
	}
	if node := iq.Payload().Get("node"); node != "" {
		return m.node(ctx, iq, node)
	}
	switch m.target(iq) {
	case server:
		return m.serverInfo(), nil
	case account:
		// XEP-0030 §3.1: the server answers for the account. Its
		// identity is the registered-account one of the Service
		// Discovery Identities registry.
		res := xmlstream.New("query", NSInfo)
		res.Add(xmlstream.New("identity", NSInfo, "category", "account", "type", "registered"))
		if m.bot != nil && m.bot(ctx, iq.To.Local()) {
			res.Add(xmlstream.New("identity", NSInfo, "category", "client", "type", "bot"))
		}
		m.mu.RLock()
		for _, id := range m.accountIDs {
			res.Add(xmlstream.New("identity", NSInfo, "category", id[0], "type", id[1]))
		}
		feats := append([]string{NSInfo}, m.account...)
		m.mu.RUnlock()
		addFeatures(res, feats)
		return res, nil
	}
	return nil, stanza.ErrServiceUnavailable
}

// serverInfo is the domain's disco#info <query/>: its identity, the
// features of every module and the extended forms (XEP-0128).
func (m *Module) serverInfo() *xmlstream.Element {
	res := xmlstream.New("query", NSInfo)
	res.Add(xmlstream.New("identity", NSInfo, "category", "server", "type", "im", "name", m.name))
	feats := []string{NSInfo, NSItems}
	if m.features != nil {
		feats = append(feats, m.features.Features()...)
	}
	addFeatures(res, feats)
	m.mu.RLock()
	for _, x := range m.forms {
		res.Add(x)
	}
	m.mu.RUnlock()
	return res
}

// addFeatures adds each feature once, sorted.
func addFeatures(res *xmlstream.Element, feats []string) {
	slices.Sort(feats)
	for _, f := range slices.Compact(feats) {
		res.Add(xmlstream.New("feature", NSInfo, "var", f))
	}
}

// CapsNode names parley in the entity capabilities (XEP-0115 §4: the
// software's URI) the server advertises in its stream features.
const CapsNode = "https://parley.im"

// Caps is the server's own entity capabilities (XEP-0115 §6.3): a <c/>
// whose ver hashes (SHA-1, §5.1) the domain's disco#info answer as it is
// now, so that a client that knows the ver need not ask; one that asks
// disco#info at CapsNode#ver gets that same answer. Features are
// registered before the server listens, so the ver is stable while it runs.
func (m *Module) Caps() *xmlstream.Element {
	m.capsMu.Lock()
	defer m.capsMu.Unlock()
	if m.caps == nil {
		ver, ok := entitycaps.Ver("sha-1", m.serverInfo())
		if !ok {
			return nil // a module registered a feature or a form type twice
		}
		m.caps = xmlstream.New("c", entitycaps.NS, "hash", "sha-1", "node", CapsNode, "ver", ver)
	}
	return m.caps // shared: callers only serialise it
}

// capsInfo answers a disco#info query at the node CapsNode#ver (XEP-0115
// §6.2) with the domain's answer, for the current ver only.
func (m *Module) capsInfo(node string) (*xmlstream.Element, bool) {
	rest, ok := strings.CutPrefix(node, CapsNode+"#")
	if !ok {
		return nil, false
	}
	res := m.serverInfo()
	if ver, ok := entitycaps.Ver("sha-1", res); !ok || ver != rest {
		return nil, false
	}
	res.Attr = append(res.Attr, xmlstream.Attr{Name: "node", Value: node})
	return res, true
}

// HandleItems answers disco#items (XEP-0030 §4). The domain lists the items
// added with AddItem; an account lists none, because its resources are
// not to be revealed to whoever asks (XEP-0030 §4.2 leaves it to presence
// authorisation, which this module does not check).
func (m *Module) HandleItems(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	if err := check(iq); err != nil {
		return nil, err
	}
	if node := iq.Payload().Get("node"); node != "" {
		return m.node(ctx, iq, node)
	}
	res := xmlstream.New("query", NSItems)
	switch m.target(iq) {
	case server:
		// XEP-0059 §2: a long list goes a page at a time, identified by
		// the items' JIDs; a page shorter than the list says so even
		// unasked (§1).
		set := iq.Payload().Child("set", rsm.NS)
		req, err := rsm.Parse(set, rsm.Limits{Max: m.pageSize})
		if err != nil {
			return nil, err
		}
		m.mu.RLock()
		page, rep, err := rsm.Page(m.items, req, m.pageSize, func(it Item) string { return it.JID.String() })
		page = slices.Clone(page)
		m.mu.RUnlock()
		if err != nil {
			return nil, err
		}
		for _, it := range page {
			el := xmlstream.New("item", NSItems, "jid", it.JID.String())
			if it.Name != "" {
				el.Attr = append(el.Attr, xmlstream.Attr{Name: "name", Value: it.Name})
			}
			res.Add(el)
		}
		if set != nil || len(page) < rep.Count {
			res.Add(rep.Element())
		}
	case account:
	default:
		return nil, stanza.ErrServiceUnavailable
	}
	return res, nil
}

// check validates the request: a get with a query.
func check(iq *stanza.Stanza) error {
	if iq.Type != "get" {
		// Disco is read-only: RFC 6120 §8.3.3.10, no entity may set it.
		return stanza.ErrNotAllowed
	}
	q := iq.Payload()
	if q.Name != "query" {
		return stanza.ErrBadRequest
	}
	return nil
}
