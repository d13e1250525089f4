package adhoc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"slices"
	"sync"
	"time"

	"parley/internal/clock"
	"parley/internal/dataform"
	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// NS is the XEP-0050 namespace, also the disco node listing the commands.
const NS = "http://jabber.org/protocol/commands"

// Action is what a requester asks of a command (§4.1).
type Action string

// Actions (§4.1). Execute is also what an absent action means.
const (
	Execute  Action = "execute"
	Cancel   Action = "cancel"
	Prev     Action = "prev"
	Next     Action = "next"
	Complete Action = "complete"
)

// Status is where a command session stands (§4.1).
type Status string

// Statuses.
const (
	Executing Status = "executing"
	Completed Status = "completed"
	Canceled  Status = "canceled"
)

// Note types (§4.3).
const (
	Info  = "info"
	Warn  = "warn"
	Error = "error"
)

// Note is a human-readable remark of a stage (§4.3). A command that
// completes but fails includes a note of type Error (§3.5).
type Note struct {
	Type string // Info, Warn or Error
	Text string
}

// Errors of §4.6 with their specific conditions. Commands return
// ErrBadPayload (with a text saying what is wrong) for a submission they
// cannot accept.
var (
	ErrMalformedAction = stanza.ErrBadRequest.WithApp(xmlstream.New("malformed-action", NS))
	ErrBadAction       = stanza.ErrBadRequest.WithApp(xmlstream.New("bad-action", NS))
	ErrBadPayload      = stanza.ErrBadRequest.WithApp(xmlstream.New("bad-payload", NS))
	ErrBadSessionID    = stanza.ErrBadRequest.WithApp(xmlstream.New("bad-sessionid", NS))
	ErrSessionExpired  = stanza.ErrNotAllowed.WithApp(xmlstream.New("session-expired", NS))
)

// Command is one command the server offers.
type Command struct {
	// Node identifies the command (§5.2); unique on the server.
	Node string
	// Name is what clients show in their command list.
	Name string
	// Allowed tells whether a requester (a local user's full JID) may
	// see and run the command; nil lets every local user. Others do not
	// see it listed and get forbidden when they run it (§4.6).
	Allowed func(requester jid.JID) bool
	// Run answers one stage: the first (action Execute) and each later
	// request of the session, whose action Run gets resolved ("execute"
	// is the previous stage's default) and checked against the actions
	// that stage allowed. It returns the stage's response, or a
	// *stanza.Error (such as ErrBadPayload), which leaves the session as
	// it was so the requester may try again.
	Run func(ctx context.Context, s *Session, req Request) (Response, error)
}

// Setting is a command of one form that shows the requester's setting
// and stores the one submitted: execute answers the form show builds
// (executing, complete the one action), the submission goes to save,
// whose text completes the command as an Info note; a request without a
// form is ErrBadPayload. show and save get the requester's username;
// their errors (ErrBadPayload for a value save refuses) answer the
// request.
func Setting(node, name string, show func(ctx context.Context, user string) (*dataform.Form, error),
	save func(ctx context.Context, user string, f *dataform.Form) (string, error)) Command {
	return Command{Node: node, Name: name,
		Run: func(ctx context.Context, _ *Session, req Request) (Response, error) {
			user := req.From.Local()
			if req.Action == Execute {
				f, err := show(ctx, user)
				if err != nil {
					return Response{}, err
				}
				return Response{Status: Executing, Actions: []Action{Complete}, Default: Complete, Form: f}, nil
			}
			if req.Form == nil {
				return Response{}, ErrBadPayload.WithText("submit the form")
			}
			text, err := save(ctx, user, req.Form)
			if err != nil {
				return Response{}, err
			}
			return Response{Status: Completed, Notes: []Note{{Type: Info, Text: text}}}, nil
		}}
}

// Request is one request of a session, as Run sees it.
type Request struct {
	From   jid.JID        // the requester's full JID
	Action Action         // Execute on the first stage; then Next, Prev or Complete
	Form   *dataform.Form // the submitted data form, or nil
	// Command is the <command/> element, for payloads other than a form.
	Command *xmlstream.Element
}

// Session is a command session. Run may keep what it needs between
// stages in Stage and State; nothing else touches them.
type Session struct {
	ID    string
	Stage int
	State any
}

// Response is a stage's answer.
type Response struct {
	// Status is Executing while more stages follow, else Completed.
	Status Status
	// Actions are what the requester may do next (Prev, Next, Complete;
	// Cancel is always allowed), and Default is the one "execute" means
	// (§4.2). With no Actions, "execute" means Complete (§3.4).
	Actions []Action
	Default Action
	Form    *dataform.Form
	// FormPayload are elements put inside the form's <x/> after its
	// fields (XEP-0133 §4.8 returns a jabber:iq:roster query there).
	FormPayload []*xmlstream.Element
	Notes       []Note
}

// Defaults of Options.
const (
	DefaultMaxSessions = 10
	DefaultSessionTTL  = 10 * time.Minute
)

// Options are the module's limits.
type Options struct {
	// MaxSessions bounds the command sessions one user (bare JID) holds
	// at once; a new one beyond it is resource-constraint. 0 means
	// DefaultMaxSessions.
	MaxSessions int
	// SessionTTL is how long a session waits for its next request; 0
	// means DefaultSessionTTL.
	SessionTTL time.Duration
	// Form bounds submitted forms; zero fields take dataform's defaults.
	Form dataform.Limits
	// Clock is the time source; nil means the system's.
	Clock clock.Clock
	Log   *slog.Logger
}

// Module is the command registry and its sessions.
type Module struct {
	o      Options
	clock  clock.Clock
	domain jid.JID

	cmdsMu sync.RWMutex // guards cmds
	cmds   []Command    // in the order added

	mu    sync.Mutex                     // guards users
	users map[string]map[string]*session // by requester's bare JID, then id
}

// session is a running command session.
type session struct {
	mu      sync.Mutex // held while a stage runs; guards the fields below
	owner   jid.JID    // full JID of the requester
	node    string
	s       Session
	last    Response  // the latest stage's response
	expires time.Time // of the next request
	ended   bool
}

// New returns the module; commands are added with Add.
func New(o Options) *Module {
	defaults.Positive(&o.MaxSessions, DefaultMaxSessions)
	defaults.Positive(&o.SessionTTL, DefaultSessionTTL)
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Module{o: o, clock: clock.Or(o.Clock), users: make(map[string]map[string]*session)}
}

// Register installs the command handler, advertises the feature (§2.1)
// and drops a requester's sessions when its XMPP session ends.
func (m *Module) Register(r *router.Router) {
	m.domain = r.Domain()
	r.HandleIQ(NS, m.Handle)
	r.AddFeature(NS)
	r.OnSessionEnded(func(_ context.Context, e router.SessionEnded) { m.drop(e.JID) })
}

// Add registers a command; one with the same node replaces it.
func (m *Module) Add(c Command) {
	m.cmdsMu.Lock()
	defer m.cmdsMu.Unlock()
	for i := range m.cmds {
		if m.cmds[i].Node == c.Node {
			m.cmds[i] = c
			return
		}
	}
	m.cmds = append(m.cmds, c)
}

// command returns the command of a node.
func (m *Module) command(node string) (Command, bool) {
	m.cmdsMu.RLock()
	defer m.cmdsMu.RUnlock()
	for _, c := range m.cmds {
		if c.Node == node {
			return c, true
		}
	}
	return Command{}, false
}

// allowed tells whether from may see and run c: a local user whom the
// command admits.
func (m *Module) allowed(c Command, from jid.JID) bool {
	if from.Domain() != m.domain.String() || from.Local() == "" {
		return false
	}
	return c.Allowed == nil || c.Allowed(from)
}

// DiscoNode answers disco queries about the command list and the command
// nodes (§2.2, §2.3); install it with disco's AddNodes.
func (m *Module) DiscoNode(_ context.Context, iq *stanza.Stanza, node string) (*xmlstream.Element, bool, error) {
	const nsInfo = "http://jabber.org/protocol/disco#info"
	const nsItems = "http://jabber.org/protocol/disco#items"
	space := iq.Payload().Space
	res := xmlstream.New("query", space, "node", node)
	if node == NS {
		switch space {
		case nsItems:
			// §2.2: the commands the requester may run, each at the
			// responder's own JID (§8).
			m.cmdsMu.RLock()
			defer m.cmdsMu.RUnlock()
			for _, c := range m.cmds {
				if m.allowed(c, iq.From) {
					res.Add(xmlstream.New("item", nsItems, "jid", m.domain.String(), "node", c.Node, "name", c.Name))
				}
			}
		case nsInfo:
			res.Add(xmlstream.New("identity", nsInfo, "category", "automation", "type", "command-list"))
		}
		return res, true, nil
	}
	c, ok := m.command(node)
	if !ok {
		return nil, false, nil
	}
	if !m.allowed(c, iq.From) {
		return nil, true, stanza.ErrForbidden
	}
	if space == nsInfo {
		// §2.3: a command node's identity and features.
		res.Add(xmlstream.New("identity", nsInfo, "category", "automation", "type", "command-node", "name", c.Name))
		res.Add(xmlstream.New("feature", nsInfo, "var", NS))
		res.Add(xmlstream.New("feature", nsInfo, "var", dataform.NS))
	}
	return res, true, nil
}

// Handle runs a command request (§3, §4).
func (m *Module) Handle(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	cmd := iq.Payload()
	switch {
	case iq.To != m.domain:
		// Commands live at the domain; an account's bare JID has none
		// the server answers for.
		return nil, stanza.ErrServiceUnavailable
	case cmd.Name != "command":
		return nil, stanza.ErrBadRequest
	case iq.Type != "set":
		return nil, stanza.ErrBadRequest.WithText("commands are executed with an IQ set")
	case cmd.Get("node") == "":
		return nil, stanza.ErrBadRequest.WithText("the command names no node")
	}
	c, ok := m.command(cmd.Get("node"))
	if !ok {
		return nil, stanza.ErrItemNotFound
	}
	if !m.allowed(c, iq.From) {
		return nil, stanza.ErrForbidden
	}
	action := Action(cmd.Get("action"))
	switch action {
	case "":
		action = Execute
	case Execute, Cancel, Prev, Next, Complete:
	default:
		return nil, ErrMalformedAction
	}
	var form *dataform.Form
	if x := cmd.Child("x", dataform.NS); x != nil {
		f, err := dataform.Parse(x, m.o.Form)
		if err != nil {
			return nil, err
		}
		form = f
	}
	req := Request{From: iq.From, Action: action, Form: form, Command: cmd}
	if id := cmd.Get("sessionid"); id != "" {
		return m.continueSession(ctx, c, id, req)
	}
	if action != Execute {
		// Only execution starts a session; the other actions need one.
		return nil, ErrBadAction.WithText("no session to " + string(action))
	}
	return m.start(ctx, c, req)
}

// start runs the first stage of a new session.
func (m *Module) start(ctx context.Context, c Command, req Request) (*xmlstream.Element, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	s := &session{owner: req.From, node: c.Node, s: Session{ID: id}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !m.add(s) {
		return nil, stanza.ErrResourceConstraint.WithText("too many command sessions at once; complete or cancel one")
	}
	res, err := c.Run(ctx, &s.s, req)
	if err != nil {
		m.remove(s)
		return nil, err
	}
	return m.answer(s, res), nil
}

// continueSession runs a later stage, or cancels.
func (m *Module) continueSession(ctx context.Context, c Command, id string, req Request) (*xmlstream.Element, error) {
	s := m.lookup(req.From, id)
	if s == nil {
		return nil, ErrBadSessionID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.ended || s.owner != req.From || s.node != c.Node:
		// §5: a session is valid between one requester and responder,
		// for the command it was started with.
		return nil, ErrBadSessionID
	case !m.clock.Now().Before(s.expires):
		m.remove(s)
		return nil, ErrSessionExpired
	}
	if req.Action == Cancel {
		// §3.6: cancel frees the session at any stage.
		m.remove(s)
		return commandElement(s, Canceled), nil
	}
	if req.Action == Execute {
		req.Action = s.last.Default
		if len(s.last.Actions) == 0 {
			req.Action = Complete
		}
	}
	if len(s.last.Actions) == 0 && req.Action != Complete ||
		len(s.last.Actions) > 0 && !slices.Contains(s.last.Actions, req.Action) {
		return nil, ErrBadAction.WithText("the stage does not allow " + string(req.Action))
	}
	res, err := c.Run(ctx, &s.s, req)
	if err != nil {
		s.expires = m.clock.Now().Add(m.o.SessionTTL)
		return nil, err
	}
	return m.answer(s, res), nil
}

// answer records a stage's response and builds its <command/>; a
// completed session ends.
func (m *Module) answer(s *session, res Response) *xmlstream.Element {
	if res.Status != Executing {
		res.Status = Completed
		m.remove(s)
	} else {
		s.last = res
		s.expires = m.clock.Now().Add(m.o.SessionTTL)
	}
	el := commandElement(s, res.Status)
	if res.Status == Executing && len(res.Actions) > 0 {
		acts := xmlstream.New("actions", NS)
		if res.Default != "" {
			acts.Set("execute", string(res.Default))
		}
		for _, a := range res.Actions {
			acts.Add(xmlstream.New(string(a), NS))
		}
		el.Add(acts)
	}
	for _, n := range res.Notes {
		typ := n.Type
		if typ == "" {
			typ = Info
		}
		note := xmlstream.NewText("note", NS, n.Text)
		note.Set("type", typ)
		el.Add(note)
	}
	if res.Form != nil {
		x := res.Form.Element()
		for _, p := range res.FormPayload {
			x.Add(p)
		}
		el.Add(x)
	}
	return el
}

func commandElement(s *session, st Status) *xmlstream.Element {
	return xmlstream.New("command", NS, "node", s.node, "sessionid", s.s.ID, "status", string(st))
}

// add records a new session unless its user holds MaxSessions live ones
// (expired ones are forgotten first).
func (m *Module) add(s *session) bool {
	bare := s.owner.Bare().String()
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	us := m.users[bare]
	if us == nil {
		us = make(map[string]*session)
		m.users[bare] = us
	}
	if len(us) >= m.o.MaxSessions {
		for id, o := range us {
			// A running stage holds o.mu; it is not expired then.
			if o.mu.TryLock() {
				if !now.Before(o.expires) {
					o.ended = true
					delete(us, id)
				}
				o.mu.Unlock()
			}
		}
	}
	if len(us) >= m.o.MaxSessions {
		return false
	}
	s.expires = now.Add(m.o.SessionTTL)
	us[s.s.ID] = s
	return true
}

// lookup returns a session of from's user by id.
func (m *Module) lookup(from jid.JID, id string) *session {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.users[from.Bare().String()][id]
}

// remove ends a session; the caller holds s.mu.
func (m *Module) remove(s *session) {
	s.ended = true
	bare := s.owner.Bare().String()
	m.mu.Lock()
	defer m.mu.Unlock()
	if us := m.users[bare]; us != nil {
		delete(us, s.s.ID)
		if len(us) == 0 {
			delete(m.users, bare)
		}
	}
}

// drop forgets the sessions of a requester whose XMPP session ended.
func (m *Module) drop(full jid.JID) {
	bare := full.Bare().String()
	m.mu.Lock()
	defer m.mu.Unlock()
	us := m.users[bare]
	if us == nil {
		return
	}
	for id, s := range us {
		if s.owner == full {
			delete(us, id)
		}
	}
	if len(us) == 0 {
		delete(m.users, bare)
	}
}

// Sessions is the number of live command sessions (for tests).
func (m *Module) Sessions() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, us := range m.users {
		n += len(us)
	}
	return n
}

// newID returns an unguessable session id (§5: unique, never reused).
func newID() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}
