package register

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"parley/internal/defaults"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/sasl"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// NS is the XEP-0077 namespace.
const NS = "jabber:iq:register"

// Defaults of the registration rate limit.
const (
	DefaultPerIP  = 5
	DefaultWindow = time.Hour
)

// DefaultInstructions is the text of the registration form.
const DefaultInstructions = "Choose a username and password to register with this server."

// Module serves in-band registration for one domain.
type Module struct {
	router *router.Router
	users  store.Users
	limit  *limiter

	// Instructions is shown in the registration form.
	Instructions string
	// Iterations is the PBKDF2 count for new keys; 0 means
	// sasl.DefaultIterations.
	Iterations int
	// OnRemove, if set, is called with the username after an account is
	// deleted, so that modules holding per-user state in memory (such as
	// the blocking cache) drop it before the name can be registered again.
	OnRemove func(username string)
	// OnCreate and OnPasswordChange, if set, are told of an account
	// registered in-band (with the client's address) and of a password
	// changed by its owner: the audit log hooks in here.
	OnCreate         func(username, ip string)
	OnPasswordChange func(username string)
	// now is the clock, replaced in tests.
	now func() time.Time
}

// Options configure the module.
type Options struct {
	// Users is where accounts are created, changed and removed.
	Users store.Users
	// PerIP registrations are allowed per address in each Window; zero
	// values mean DefaultPerIP and DefaultWindow.
	PerIP  int
	Window time.Duration
}

// New returns the module; install it with Register.
func New(o Options) *Module {
	defaults.Positive(&o.PerIP, DefaultPerIP)
	defaults.Positive(&o.Window, DefaultWindow)
	return &Module{
		users:        o.Users,
		limit:        newLimiter(o.PerIP, o.Window),
		Instructions: DefaultInstructions,
		now:          time.Now,
	}
}

// Register installs the handler for authenticated users (password change,
// cancellation) on r and advertises the feature. Pre-authentication
// registration is reached only through PreAuth, which c2s calls.
func (m *Module) Register(r *router.Router) {
	m.router = r
	r.HandleIQ(NS, m.HandleIQ)
	r.AddFeature(NS)
}

func (m *Module) domain() string { return m.router.Domain().String() }

// PreAuth answers a jabber:iq:register IQ on a stream that has not
// authenticated (XEP-0077 §3.1): a get returns the form, a set with a
// username and password creates the account. ip is the client's address,
// for the rate limit.
func (m *Module) PreAuth(ctx context.Context, iq *stanza.Stanza, ip string) (*xmlstream.Element, error) {
	res, err := m.preAuth(ctx, iq, ip)
	return res, scrub(iq, err)
}

func (m *Module) preAuth(ctx context.Context, iq *stanza.Stanza, ip string) (*xmlstream.Element, error) {
	q := iq.Payload()
	if q == nil || q.Name != "query" || q.Space != NS {
		return nil, stanza.ErrBadRequest
	}
	if iq.Type == "get" {
		// XEP-0077 §3.1.1: before authentication, assume the entity
		// is not registered.
		return xmlstream.New("query", NS).Add(
			xmlstream.NewText("instructions", NS, m.Instructions),
			xmlstream.New("username", NS),
			xmlstream.New("password", NS),
		), nil
	}
	if iq.Type != "set" {
		return nil, stanza.ErrBadRequest
	}
	if q.Child("remove", NS) != nil {
		// XEP-0077 §3.2: cancelling needs an account; this stream has
		// none yet.
		return nil, stanza.ErrUnexpectedRequest
	}
	return nil, m.create(ctx, q, ip)
}

// create makes the account a pre-authentication set asks for.
func (m *Module) create(ctx context.Context, q *xmlstream.Element, ip string) error {
	username, password, err := m.fields(q)
	if err != nil {
		return err
	}
	if _, err := m.users.GetUser(ctx, username); err == nil {
		return stanza.ErrConflict // taken: no need to spend a slot
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("register: look up %s: %w", username, err)
	}
	if !m.limit.allow(ip, m.now()) {
		// Wait-type error: the client may try again later. XEP-0077
		// §3.1.1 lets a server refuse repeated registrations.
		return stanza.ErrResourceConstraint.WithText("too many registrations from this address; try again later")
	}
	u := store.User{Username: username, Created: m.now().UTC()}
	if u.SHA1, u.SHA256, err = m.keys(password); err != nil {
		return err
	}
	switch err := m.users.CreateUser(ctx, u); {
	case errors.Is(err, store.ErrExists):
		return stanza.ErrConflict // lost a race for the name
	case err != nil:
		return fmt.Errorf("register: create %s: %w", username, err)
	}
	if m.OnCreate != nil {
		m.OnCreate(username, ip)
	}
	return nil
}

// fields reads and checks <username/> and <password/>: both required and
// non-empty (XEP-0077 §3.1: else not-acceptable), the username a valid
// localpart, which PRECIS normalises (RFC 7622 §3.3).
func (m *Module) fields(q *xmlstream.Element) (username, password string, err error) {
	raw := strings.TrimSpace(q.ChildText("username", NS))
	password = q.ChildText("password", NS)
	if raw == "" || password == "" {
		return "", "", stanza.ErrNotAcceptable.WithText("username and password are required")
	}
	j, err := jid.New(raw, m.domain(), "")
	if err != nil {
		return "", "", stanza.ErrJIDMalformed.WithText("the username is not a valid address localpart")
	}
	return j.Local(), password, nil
}

// keys derives both SCRAM key sets, so either mechanism can authenticate.
func (m *Module) keys(password string) (sha1, sha256 store.ScramKeys, err error) {
	it := m.Iterations
	defaults.Positive(&it, sasl.DefaultIterations)
	if sha1, err = sasl.NewKeys(sasl.SHA1, password, it); err == nil {
		sha256, err = sasl.NewKeys(sasl.SHA256, password, it)
	}
	switch {
	case errors.Is(err, sasl.ErrPasswordPrep), errors.Is(err, sasl.ErrEmptyPassword):
		return sha1, sha256, stanza.ErrNotAcceptable.WithText("the password contains characters that are not allowed")
	case err != nil:
		return sha1, sha256, fmt.Errorf("register: derive keys: %w", err)
	}
	return sha1, sha256, nil
}

// HandleIQ serves an authenticated user: a get shows the registration,
// a set changes the password (XEP-0077 §3.3) or, with <remove/>, deletes
// the account (XEP-0077 §3.2).
func (m *Module) HandleIQ(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	res, err := m.handle(ctx, iq)
	return res, scrub(iq, err)
}

func (m *Module) handle(ctx context.Context, iq *stanza.Stanza) (*xmlstream.Element, error) {
	q := iq.Payload()
	if q.Name != "query" {
		return nil, stanza.ErrBadRequest
	}
	if !m.router.IsLocal(iq.From) || iq.From.Local() == "" || !(iq.To.IsZero() || iq.To == iq.From.Bare() || iq.To == m.router.Domain()) {
		// Only the account's own sessions may manage it.
		return nil, stanza.ErrForbidden
	}
	user := iq.From.Local()
	if iq.Type == "get" {
		// XEP-0077 §3.1: a registered entity sees <registered/> and its
		// username; the password is never echoed.
		return xmlstream.New("query", NS).Add(
			xmlstream.New("registered", NS),
			xmlstream.NewText("username", NS, user),
			xmlstream.New("password", NS),
		), nil
	}
	if q.Child("remove", NS) != nil {
		if len(q.Children) != 1 {
			return nil, stanza.ErrBadRequest.WithText("<remove/> must be alone") // §3.2
		}
		return nil, m.remove(ctx, iq, user)
	}
	return nil, m.changePassword(ctx, iq, user)
}

// remove deletes the account, answers, and then ends every session of the
// user with <not-authorized/> (XEP-0077 §3.2): the result must reach the
// client before its stream is closed.
func (m *Module) remove(ctx context.Context, iq *stanza.Stanza, user string) error {
	if err := m.users.DeleteUser(ctx, user); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return stanza.ErrItemNotFound
		}
		return fmt.Errorf("register: delete %s: %w", user, err)
	}
	if m.OnRemove != nil {
		m.OnRemove(user)
	}
	m.router.Reply(ctx, stanza.Result(iq, nil))
	for _, r := range m.router.Resources(iq.From.Bare()) {
		r.Session.Terminate(stanza.ErrStreamNotAuthorized.WithText("account removed"))
	}
	return router.ErrNoReply
}

// changePassword replaces the SCRAM keys (XEP-0077 §3.3).
func (m *Module) changePassword(ctx context.Context, iq *stanza.Stanza, user string) error {
	q := iq.Payload()
	name := strings.TrimSpace(q.ChildText("username", NS))
	password := q.ChildText("password", NS)
	if name == "" || password == "" {
		// §3.3: an empty password never replaces the old one.
		return stanza.ErrBadRequest.WithText("username and a non-empty password are required")
	}
	j, err := jid.New(name, m.domain(), "")
	if err != nil || j.Local() != user {
		return stanza.ErrForbidden.WithText("that is not your username")
	}
	sha1, sha256, err := m.keys(password)
	if err != nil {
		return err
	}
	if err := m.users.SetUserKeys(ctx, user, sha1, sha256); err != nil {
		return fmt.Errorf("register: set keys of %s: %w", user, err)
	}
	if m.OnPasswordChange != nil {
		m.OnPasswordChange(user)
	}
	return nil
}

// scrub drops the request's payload when answering with an error, so that
// the reply built from it (stanza.ErrorReply copies the children back,
// RFC 6120 §8.3.1) does not send a password back over the wire: XEP-0077
// §3.3 says the original XML SHOULD NOT be returned for password changes,
// and the same holds for registration attempts.
func scrub(iq *stanza.Stanza, err error) error {
	if err != nil && !errors.Is(err, router.ErrNoReply) {
		iq.El.Children = nil
	}
	return err
}
