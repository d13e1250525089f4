package directory

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"parley/internal/audit"
	"parley/internal/control"
	"parley/internal/im/roster"
	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/store"
)

// snapshot is what one sync read; replaced whole, never changed.
type snapshot struct {
	synced bool                                       // read from the directory (false before the first sync)
	users  map[string]*userInfo                       // by username
	shared map[string]map[string]roster.SharedContact // user -> contact bare JID -> groups
}

type userInfo struct {
	dn         string
	name       string
	groupNames []string // sorted
}

// groups copies the user's shared groups; none for nil.
func (u *userInfo) groups() []string {
	if u == nil {
		return nil
	}
	return slices.Clone(u.groupNames)
}

// errLocked ends the sessions of a user gone from the directory (RFC 6120
// §4.9.3.12).
var errLocked = stanza.ErrStreamNotAuthorized.WithText("account disabled in the directory")

// pageSize is the paged-results page (RFC 2696): directories cap a
// search's entries (slapd 500, Active Directory 1000).
const pageSize = 500

// Sync reads the users and groups, makes accounts for new users, ends the
// sessions of users gone from the directory, and pushes shared-group
// changes to rosters and presence. When the directory cannot be read the
// last sync's state stays and nobody is locked out.
func (d *Directory) Sync(ctx context.Context) error {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	var users, groups []*ldap.Entry
	err := d.pool.do(func(c *ldap.Conn) error {
		res, err := c.SearchWithPaging(ldap.NewSearchRequest(d.cfg.UserBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			0, 0, false, "(&"+d.cfg.UserFilter+"("+d.cfg.LocalpartAttribute+"=*))", d.attrs(false), nil), pageSize)
		if err != nil {
			return err
		}
		users = res.Entries
		if d.cfg.GroupBase == "" {
			return nil
		}
		res, err = c.SearchWithPaging(ldap.NewSearchRequest(d.cfg.GroupBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			0, 0, false, d.cfg.GroupFilter, []string{d.cfg.GroupNameAttribute, d.cfg.GroupMemberAttribute}, nil), pageSize)
		if err != nil {
			return err
		}
		groups = res.Entries
		return nil
	})
	if err != nil {
		return err
	}
	old := d.snap.Load()
	next, back, err := d.build(ctx, old, users, groups)
	if err != nil {
		return err
	}
	d.snap.Store(next)
	d.lockout(old, next, back)
	d.notify(ctx, old, next)
	return nil
}

// build makes the next snapshot. A name that a local account (one with
// keys) already holds stays local: the directory's user is left out.
// back are the users listed again after a sync of this process left
// them out.
func (d *Directory) build(ctx context.Context, old *snapshot, users, groups []*ldap.Entry) (next *snapshot, back []string, err error) {
	next = &snapshot{synced: true, users: make(map[string]*userInfo, len(users)), shared: map[string]map[string]roster.SharedContact{}}
	byDN := make(map[string]string, len(users))
	dup := map[string]bool{}
	for _, e := range users {
		en, ok := d.entry(e)
		if !ok {
			d.log.Warn("directory user skipped: not an XMPP localpart", "dn", e.DN)
			continue
		}
		if _, ok := next.users[en.Username]; ok {
			dup[en.Username] = true
			continue
		}
		next.users[en.Username] = &userInfo{dn: e.DN, name: en.Name}
	}
	for u := range dup {
		d.log.Warn("directory users skipped: several entries have the localpart", "user", u)
		delete(next.users, u)
	}
	for u := range next.users {
		if _, ok := old.users[u]; ok {
			continue
		}
		acct, err := d.users.GetUser(ctx, u)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if err := d.provision(ctx, u); err != nil {
				return nil, nil, err
			}
		case err != nil:
			return nil, nil, err
		case hasKeys(acct):
			d.log.Warn("directory user left out: a local account has the name", "user", u)
			delete(next.users, u)
			continue
		}
		if d.setLocked(u, false) {
			back = append(back, u)
		}
		d.remember(u)
	}
	for u, info := range next.users {
		byDN[normDN(info.dn)] = u
	}
	for _, g := range groups {
		name := g.GetAttributeValue(d.cfg.GroupNameAttribute)
		if name == "" {
			continue
		}
		var members []string
		for _, v := range g.GetAttributeValues(d.cfg.GroupMemberAttribute) {
			u, ok := byDN[normDN(v)]
			if !ok { // memberUid holds localparts
				if l, err := jid.Localpart(v); err == nil && next.users[l] != nil {
					u, ok = l, true
				}
			}
			if ok {
				members = append(members, u)
			}
		}
		slices.Sort(members)
		members = slices.Compact(members)
		if len(members) > d.cfg.MaxGroupSize {
			d.log.Warn("directory group not shared: more members than max_group_size", "group", name,
				"members", len(members), "max", d.cfg.MaxGroupSize)
			continue
		}
		for _, a := range members {
			next.users[a].groupNames = append(next.users[a].groupNames, name)
			for _, b := range members {
				if a == b {
					continue
				}
				m := next.shared[a]
				if m == nil {
					m = map[string]roster.SharedContact{}
					next.shared[a] = m
				}
				key := b + "@" + d.domain.String()
				sc := m[key]
				sc.Name = next.users[b].name
				sc.Groups = append(sc.Groups, name)
				m[key] = sc
			}
		}
	}
	for _, m := range next.shared {
		for k, sc := range m {
			slices.Sort(sc.Groups)
			sc.Groups = slices.Compact(sc.Groups)
			m[k] = sc
		}
	}
	for _, u := range next.users {
		slices.Sort(u.groupNames)
		u.groupNames = slices.Compact(u.groupNames)
	}
	return next, back, nil
}

// normDN is a DN's comparable form: parsed and lowercased, or the text
// lowercased when it does not parse.
func normDN(s string) string {
	if dn, err := ldap.ParseDN(s); err == nil {
		return strings.ToLower(dn.String())
	}
	return strings.ToLower(s)
}

// lockout ends the sessions of directory accounts the directory no
// longer lists (deleted, or no longer matching the user filter, e.g.
// disabled) and records it. CheckPassword already refuses their logins.
func (d *Directory) lockout(old, next *snapshot, back []string) {
	gone := map[string]bool{}
	for u := range old.users {
		if _, ok := next.users[u]; !ok {
			gone[u] = true
		}
	}
	if d.router != nil {
		for _, bare := range d.router.Users() {
			u := bare.Local()
			if _, ok := next.users[u]; !ok && d.isKnown(u) && !gone[u] {
				gone[u] = false // online, but not in the last sync: record only if sessions end
			}
		}
	}
	ops := &control.Ops{Domain: d.domain}
	if d.router != nil {
		ops.Sessions = d.router
	}
	for _, u := range slices.Sorted(maps.Keys(gone)) {
		bare, err := jid.New(u, d.domain.String(), "")
		if err != nil {
			continue
		}
		n := ops.EndSessions(bare, jid.JID{}, errLocked)
		d.setLocked(u, true)
		if n == 0 && !gone[u] {
			continue
		}
		d.log.Info("directory user locked out", "user", u, "sessions", n)
		if d.audit != nil {
			d.audit.Emit(audit.Record{Actor: "directory", Action: audit.ActionAccountDisabled, Target: bare.String(),
				Outcome: audit.OutcomeSuccess, Details: map[string]string{"via": "directory", "sessions_ended": strconv.Itoa(n)}})
		}
	}
	for _, u := range back {
		d.log.Info("directory user back", "user", u)
		if d.audit != nil {
			d.audit.Emit(audit.Record{Actor: "directory", Action: audit.ActionAccountEnabled, Target: u + "@" + d.domain.String(),
				Outcome: audit.OutcomeSuccess, Details: map[string]string{"via": "directory"}})
		}
	}
}

// notify pushes, for each connected user whose shared contacts changed,
// the changed roster items; a new contact is probed (so the user sees its
// presence at once, RFC 6121 §4.3) and a lost one's unavailable presence
// is delivered (§4.5: it no longer shares presence).
func (d *Directory) notify(ctx context.Context, old, next *snapshot) {
	if d.router == nil || d.Roster == nil {
		return
	}
	users := map[string]struct{}{}
	for u := range old.shared {
		users[u] = struct{}{}
	}
	for u := range next.shared {
		users[u] = struct{}{}
	}
	for u := range users {
		bare, err := jid.New(u, d.domain.String(), "")
		if err != nil || len(d.router.Resources(bare)) == 0 {
			continue
		}
		before, after := old.shared[u], next.shared[u]
		var changed, added, removed []jid.JID
		for k, sc := range after {
			c, err := jid.Parse(k)
			if err != nil {
				continue
			}
			prev, ok := before[k]
			switch {
			case !ok:
				added = append(added, c)
			case prev.Name == sc.Name && slices.Equal(prev.Groups, sc.Groups):
				continue
			}
			changed = append(changed, c)
		}
		for k := range before {
			if _, ok := after[k]; !ok {
				if c, err := jid.Parse(k); err == nil {
					removed = append(removed, c)
					changed = append(changed, c)
				}
			}
		}
		if len(changed) == 0 {
			continue
		}
		if err := d.Roster.SharedChanged(ctx, bare, changed); err != nil {
			d.log.Error("directory: roster push failed", "user", u, "err", err)
		}
		for _, c := range added {
			d.router.Send(ctx, stanza.New(stanza.Presence, bare, c, "probe", ""))
		}
		for _, c := range removed {
			d.router.Send(ctx, stanza.New(stanza.Presence, c, bare, "unavailable", ""))
		}
	}
}
