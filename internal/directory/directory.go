package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"

	"parley/internal/audit"
	"parley/internal/clock"
	"parley/internal/config"
	"parley/internal/im/roster"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/sasl"
	"parley/internal/stanza"
	"parley/internal/store"
)

// ErrNotFound means no directory entry matches the username.
var ErrNotFound = errors.New("directory: no such user")

// Users is the account storage: directory users get an account without
// keys there.
type Users interface {
	GetUser(ctx context.Context, username string) (store.User, error)
	CreateUser(ctx context.Context, u store.User) error
}

// Router is what the directory needs of the router: who is connected,
// their sessions (to end them), and sending presence when shared groups
// change.
type Router interface {
	Users() []jid.JID
	Resources(bare jid.JID) []router.Resource
	Send(ctx context.Context, st *stanza.Stanza)
}

// Roster is told which shared contacts of a user changed
// (*roster.Module).
type Roster interface {
	SharedChanged(ctx context.Context, user jid.JID, contacts []jid.JID) error
}

// Auditor records lockouts (*audit.Log).
type Auditor interface {
	Emit(r audit.Record)
}

// Options configure a Directory.
type Options struct {
	Config config.LDAP // Validate()d
	Domain jid.JID
	Users  Users
	// Router and Audit may be nil (the CLI's `ldap test`).
	Router Router
	Audit  Auditor
	Clock  clock.Clock // drives the sync interval; nil is the system clock
	Log    *slog.Logger
	// OnSync, if set, is told how each sync of Start's loop ended and
	// how many users a successful one listed (metrics).
	OnSync func(ok bool, users int, at time.Time)
}

// Entry is what the directory says about one user.
type Entry struct {
	Username                                   string // the XMPP localpart (PRECIS-normalised)
	DN                                         string
	Name, Title, Org, Department, Phone, Email string
	Photo                                      []byte   // only from Lookup
	Groups                                     []string // shared groups the user is in, sorted (after a sync)
}

// Directory is an LDAP account source.
type Directory struct {
	cfg    config.LDAP
	domain jid.JID
	pool   *pool
	users  Users
	router Router
	audit  Auditor
	// Roster, if set before Start, is told of shared-group changes (the
	// roster module is built after the directory, which it reads).
	Roster Roster
	clock  clock.Clock
	log    *slog.Logger
	onSync func(ok bool, users int, at time.Time)

	snap atomic.Pointer[snapshot] // the last successful sync; never nil

	mu     sync.Mutex          // guards known and locked
	known  map[string]struct{} // usernames seen as directory accounts since start
	locked map[string]struct{} // usernames a sync locked out

	syncMu sync.Mutex // one Sync at a time
	stop   chan struct{}
	done   chan struct{}
}

// New returns a directory; Start runs its periodic sync. It does not
// contact the directory.
func New(o Options) (*Directory, error) {
	cfg := o.Config.WithDefaults()
	p, err := newPool(cfg)
	if err != nil {
		return nil, err
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	d := &Directory{cfg: cfg, domain: o.Domain, pool: p, users: o.Users, router: o.Router,
		audit: o.Audit, clock: clock.Or(o.Clock), log: log, onSync: o.OnSync, known: map[string]struct{}{}, locked: map[string]struct{}{}}
	d.snap.Store(&snapshot{})
	return d, nil
}

// userFilter is the search for one username: the configured filter ANDed
// with an equality match whose value is escaped (RFC 4515 §3), so '*',
// '(', ')', '\' and NUL in a username are literal characters, never
// filter syntax.
func (d *Directory) userFilter(username string) string {
	return fmt.Sprintf("(&%s(%s=%s))", d.cfg.UserFilter, d.cfg.LocalpartAttribute, ldap.EscapeFilter(username))
}

// attrs are the user attributes read, with the photo or without.
func (d *Directory) attrs(photo bool) []string {
	v := d.cfg.VCard
	a := []string{d.cfg.LocalpartAttribute, v.FN, v.Title, v.Org, v.Department, v.Phone, v.Email}
	if photo {
		a = append(a, v.Photo)
	}
	return a
}

// entry converts a search result, or reports false when its localpart
// attribute is not a localpart.
func (d *Directory) entry(e *ldap.Entry) (Entry, bool) {
	u, err := jid.Localpart(e.GetAttributeValue(d.cfg.LocalpartAttribute))
	if err != nil {
		return Entry{}, false
	}
	v := d.cfg.VCard
	return Entry{Username: u, DN: e.DN, Name: e.GetAttributeValue(v.FN), Title: e.GetAttributeValue(v.Title),
		Org: e.GetAttributeValue(v.Org), Department: e.GetAttributeValue(v.Department),
		Phone: e.GetAttributeValue(v.Phone), Email: e.GetAttributeValue(v.Email),
		Photo: e.GetRawAttributeValue(v.Photo)}, true
}

// search returns the entries the user filter matches for username
// (at most 2: one is the answer, two an ambiguity).
func (d *Directory) search(c *ldap.Conn, username string, photo bool) ([]*ldap.Entry, error) {
	res, err := c.Search(ldap.NewSearchRequest(d.cfg.UserBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		2, int(d.cfg.Timeout.Seconds()), false, d.userFilter(username), d.attrs(photo), nil))
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return nil, nil
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded):
		return res.Entries, nil
	case err != nil:
		return nil, err
	}
	return res.Entries, nil
}

// find searches the entry of username: ErrNotFound, ErrUnavailable, or
// an error for two entries with the same localpart.
func (d *Directory) find(c *ldap.Conn, username string, photo bool) (Entry, error) {
	entries, err := d.search(c, username, photo)
	if err != nil {
		return Entry{}, err
	}
	var found []Entry
	for _, e := range entries {
		// The directory's matching rule may be looser than PRECIS (case,
		// spaces): keep only exact localparts.
		if en, ok := d.entry(e); ok && en.Username == username {
			found = append(found, en)
		}
	}
	switch len(found) {
	case 0:
		return Entry{}, ErrNotFound
	case 1:
		found[0].Groups = d.snap.Load().users[username].groups()
		return found[0], nil
	}
	return Entry{}, fmt.Errorf("directory: %d entries have %s %q", len(found), d.cfg.LocalpartAttribute, username)
}

// Lookup returns the directory's entry for username (PRECIS-normalised),
// photo included; ErrNotFound, ErrUnavailable.
func (d *Directory) Lookup(ctx context.Context, username string) (Entry, error) {
	var e Entry
	err := d.pool.do(func(c *ldap.Conn) error {
		var err error
		e, err = d.find(c, username, true)
		return err
	})
	return e, err
}

// CheckPassword is sasl.Config.CheckPassword: it binds as the user's
// entry with the password. Accounts with SCRAM keys are local
// (sasl.ErrUnknownUser: the keys decide); an unknown user in the
// directory is sasl.ErrUnknownUser too, unless it has a directory
// account here, which is then disabled (account-disabled). A success
// makes the account if it does not exist yet.
func (d *Directory) CheckPassword(ctx context.Context, username, password string) error {
	u, err := d.users.GetUser(ctx, username)
	exists := err == nil
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	case exists && hasKeys(u):
		return sasl.ErrUnknownUser
	case exists && u.Disabled:
		return &sasl.Failure{Condition: sasl.AccountDisabled}
	case password == "":
		// An empty password is an unauthenticated bind (RFC 4513
		// §5.1.2), which succeeds without checking anything.
		return &sasl.Failure{Condition: sasl.NotAuthorized}
	}
	err = d.pool.do(func(c *ldap.Conn) error {
		e, err := d.find(c, username, false)
		if err != nil {
			return err
		}
		berr := c.Bind(e.DN, password)
		// Bound as the user, or as no one after a failed bind: back to
		// the service account before the connection is used again.
		if err := d.pool.rebind(c); err != nil {
			return err
		}
		if ldap.IsErrorWithCode(berr, ldap.LDAPResultInvalidCredentials) {
			// Also what OpenLDAP's ppolicy and Active Directory answer
			// for a locked, expired or disabled account.
			return &sasl.Failure{Condition: sasl.NotAuthorized}
		}
		return berr
	})
	var f *sasl.Failure
	switch {
	case errors.Is(err, ErrNotFound) && exists:
		// Gone from the directory (or no longer matching the filter).
		return &sasl.Failure{Condition: sasl.AccountDisabled}
	case errors.Is(err, ErrNotFound):
		return sasl.ErrUnknownUser
	case errors.As(err, &f):
		return f
	case err != nil:
		d.log.Warn("directory login failed", "user", username, "err", err)
		return err
	}
	d.remember(username)
	if !exists {
		if err := d.provision(ctx, username); err != nil {
			return err
		}
	}
	return nil
}

// hasKeys says whether an account has a password here (a local account).
func hasKeys(u store.User) bool {
	return len(u.SHA256.StoredKey) > 0 || len(u.SHA1.StoredKey) > 0
}

// provision makes the account of a directory user: no keys.
func (d *Directory) provision(ctx context.Context, username string) error {
	err := d.users.CreateUser(ctx, store.User{Username: username, Created: d.clock.Now()})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return fmt.Errorf("directory: account %s: %w", username, err)
	}
	if err == nil {
		d.log.Info("directory account created", "user", username)
	}
	return nil
}

func (d *Directory) remember(username string) {
	d.mu.Lock()
	d.known[username] = struct{}{}
	d.mu.Unlock()
}

// setLocked records that a sync locked username out (locked) or that it
// is listed again, and reports whether that changed anything.
func (d *Directory) setLocked(username string, locked bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, was := d.locked[username]
	if locked {
		d.locked[username] = struct{}{}
	} else {
		delete(d.locked, username)
	}
	return was != locked
}

func (d *Directory) isKnown(username string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.known[username]
	return ok
}

// IsDirectoryAccount says whether username is a directory user as of the
// last sync.
func (d *Directory) IsDirectoryAccount(username string) bool {
	_, ok := d.snap.Load().users[username]
	return ok
}

// Refuses says whether a directory account (one without keys here) is to
// be refused a login that does not reach CheckPassword (a token, XEP-0484
// FAST): the last sync did not list it. Before the first sync it refuses
// no one.
func (d *Directory) Refuses(username string) bool {
	s := d.snap.Load()
	_, listed := s.users[username]
	return s.synced && !listed
}

// SharedContacts is roster.Shared: the user's shared groups' members.
func (d *Directory) SharedContacts(username string) map[string]roster.SharedContact {
	return d.snap.Load().shared[username]
}

// Start runs Sync now and then every sync interval, until Close.
func (d *Directory) Start() {
	d.stop, d.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(d.done)
		t := d.clock.NewTimer(0)
		defer t.Stop()
		for {
			select {
			case <-d.stop:
				return
			case <-t.C():
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*d.cfg.Timeout.Duration+time.Minute)
			err := d.Sync(ctx)
			if err != nil {
				d.log.Warn("directory sync failed; the last one's groups stay", "err", err)
			}
			cancel()
			if d.onSync != nil {
				d.onSync(err == nil, len(d.snap.Load().users), d.clock.Now())
			}
			t.Reset(d.cfg.SyncInterval.Duration)
		}
	}()
}

// Close stops the sync and closes the connections.
func (d *Directory) Close() {
	if d.stop != nil {
		close(d.stop)
		<-d.done
	}
	d.pool.close()
}

// GroupsOf searches the groups that list username's entry (by DN, or by
// localpart as memberUid does), whatever their size: what `parley ldap
// test` shows.
func (d *Directory) GroupsOf(ctx context.Context, e Entry) ([]string, error) {
	if d.cfg.GroupBase == "" {
		return nil, nil
	}
	m := d.cfg.GroupMemberAttribute
	filter := fmt.Sprintf("(&%s(|(%s=%s)(%s=%s)))", d.cfg.GroupFilter, m, ldap.EscapeFilter(e.DN), m, ldap.EscapeFilter(e.Username))
	var names []string
	err := d.pool.do(func(c *ldap.Conn) error {
		res, err := c.SearchWithPaging(ldap.NewSearchRequest(d.cfg.GroupBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			0, 0, false, filter, []string{d.cfg.GroupNameAttribute}, nil), pageSize)
		if err != nil {
			return err
		}
		for _, g := range res.Entries {
			if n := g.GetAttributeValue(d.cfg.GroupNameAttribute); n != "" {
				names = append(names, n)
			}
		}
		return nil
	})
	slices.Sort(names)
	return names, err
}
