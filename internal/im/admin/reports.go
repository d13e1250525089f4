package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"parley/internal/audit"
	"parley/internal/dataform"
	"parley/internal/im/adhoc"
	"parley/internal/jid"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Accounts is what the reading commands need of the store; the store
// has it.
type Accounts interface {
	ListUsers(ctx context.Context) ([]string, error)
	GetUser(ctx context.Context, username string) (store.User, error)
	Roster(ctx context.Context, username string) ([]store.RosterItem, int64, error)
	// AuditRecords gives the last login: the audit log records every
	// successful authentication (internal/server, login).
	AuditRecords(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error)
}

// sessionInfo is what c2s sessions tell of their connection.
type sessionInfo interface {
	Info() (ip, transport string, since time.Time)
}

// formFunc adds a two-stage command: its form, then the submission.
type formFunc = func(node, name, title, instr string, fields []dataform.Field, submit func(context.Context, adhoc.Request) (adhoc.Response, error))

// registerReports adds the commands that read accounts, when the module
// has the store.
func (m *Module) registerReports(form formFunc) {
	if m.o.Accounts == nil {
		return
	}
	one := func(label string) []dataform.Field {
		f := dataform.NewField("accountjids", dataform.JIDMulti, label)
		f.Required = true
		return []dataform.Field{f}
	}
	form(NodeUserRoster, "Get User Roster", "Getting a User's Roster", "Fill out this form to get a user's roster.",
		one("The Jabber ID for which to retrieve the roster"), m.userRoster)
	form(NodeUserLastLogin, "Get User Last Login Time", "Getting a User's Last Login Time",
		"Fill out this form to get a user's last login time.", one("The Jabber ID for which to retrieve the last login time"), m.lastLogin)
	stats := dataform.NewField("accountjid", dataform.JIDSingle, "The Jabber ID for statistics")
	stats.Required = true
	form(NodeUserStats, "Get User Statistics", "Get User Statistics", "Fill out this form to gather user statistics.",
		[]dataform.Field{stats}, m.userStats)
	count := func(node, name, field, label string, list func(context.Context) ([]string, error)) {
		m.o.Commands.Add(adhoc.Command{Node: node, Name: name, Allowed: m.isAdmin,
			Run: func(ctx context.Context, _ *adhoc.Session, _ adhoc.Request) (adhoc.Response, error) {
				l, err := list(ctx)
				if err != nil {
					return adhoc.Response{}, err
				}
				f := dataform.New(dataform.TypeResult, NS, dataform.NewField(field, "", label, strconv.Itoa(len(l))))
				return adhoc.Response{Status: adhoc.Completed, Form: f}, nil
			}})
	}
	count(NodeRegisteredNum, "Get Number of Registered Users", "registeredusersnum", "The number of registered users", m.registered)
	count(NodeDisabledNum, "Get Number of Disabled Users", "disabledusersnum", "The number of disabled users", m.disabled)
	count(NodeActiveNum, "Get Number of Active Users", "activeusersnum", "The number of active users", m.active)
	count(NodeIdleNum, "Get Number of Idle Users", "idleusersnum", "The number of idle users", m.idle)
	list := func(node, name, what, field string, users func(context.Context) ([]string, error)) {
		form(node, name, "Requesting List of "+what, "Fill out this form to request the "+strings.ToLower(what)+" of this service.",
			[]dataform.Field{maxItems()}, func(ctx context.Context, req adhoc.Request) (adhoc.Response, error) {
				limit, err := maxListed(req)
				if err != nil {
					return adhoc.Response{}, err
				}
				l, err := users(ctx)
				if err != nil {
					return adhoc.Response{}, err
				}
				return listed(field, "The list of "+strings.ToLower(what), strings.ToLower(what), l, limit), nil
			})
	}
	list(NodeRegisteredList, "Get List of Registered Users", "Registered Users", "registereduserjids", m.registered)
	list(NodeDisabledList, "Get List of Disabled Users", "Disabled Users", "disableduserjids", m.disabled)
	list(NodeActiveList, "Get List of Active Users", "Active Users", "activeuserjids", m.active)
	list(NodeIdleList, "Get List of Idle Users", "Idle Users", "idleuserjids", m.idle)
}

// maxItems is the max_items field of the list commands (§4.18).
func maxItems() dataform.Field {
	f := dataform.Field{Var: "max_items", Type: dataform.ListSingle, Label: "Maximum number of items to show"}
	for _, v := range []string{"25", "50", "75", "100", "150", "200", "none"} {
		f.Options = append(f.Options, dataform.Option{Label: v, Value: v})
	}
	return f
}

// maxListed reads max_items: a positive number, or none (MaxListed).
func maxListed(req adhoc.Request) (int, error) {
	v, err := req.Form.Value("max_items")
	if err != nil {
		return 0, adhoc.ErrBadPayload.WithText("one max_items")
	}
	if v = strings.TrimSpace(v); v == "" || v == "none" {
		return MaxListed, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, adhoc.ErrBadPayload.WithText("max_items is a positive number or none")
	}
	return min(n, MaxListed), nil
}

// listed is the result of a list command: the JIDs sorted, the first
// limit of them, with a warning when cut.
func listed(field, label, what string, names []string, limit int) adhoc.Response {
	slices.Sort(names)
	res := adhoc.Response{Status: adhoc.Completed}
	if len(names) > limit {
		res.Notes = []adhoc.Note{{Type: adhoc.Warn, Text: fmt.Sprintf("the first %d of %d %s", limit, len(names), what)}}
		names = names[:limit]
	}
	res.Form = dataform.New(dataform.TypeResult, NS, dataform.NewField(field, dataform.JIDMulti, label, names...))
	return res
}

// registered lists every account's bare JID (§4.13, §4.18).
func (m *Module) registered(ctx context.Context) ([]string, error) {
	users, err := m.o.Accounts.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u + "@" + m.domain.String()
	}
	return out, nil
}

// disabled lists the disabled accounts (§4.14, §4.19): one read per
// account, which an admin command on a site of thousands can afford.
func (m *Module) disabled(ctx context.Context) ([]string, error) {
	users, err := m.o.Accounts.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range users {
		u, err := m.o.Accounts.GetUser(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		if u.Disabled {
			out = append(out, name+"@"+m.domain.String())
		}
	}
	return out, nil
}

// active lists the online users with at least one available resource
// (§4.16, §4.21).
func (m *Module) active(context.Context) ([]string, error) { return m.online(true), nil }

// idle lists the online users none of whose sessions is available (one
// that never sent presence, or sent unavailable; §4.17, §4.22).
func (m *Module) idle(context.Context) ([]string, error) { return m.online(false), nil }

// online lists the users with a session whose availability (any
// resource available) is available.
func (m *Module) online(available bool) []string {
	var out []string
	for _, u := range m.o.Sessions.Users() {
		avail := false
		for _, r := range m.o.Sessions.Resources(u) {
			avail = avail || r.Available
		}
		if avail == available {
			out = append(out, u.String())
		}
	}
	return out
}

// oneAccount reads accountjids holding exactly one existing account.
func (m *Module) oneAccount(ctx context.Context, req adhoc.Request) (jid.JID, error) {
	users, err := m.accounts(req, false)
	if err != nil {
		return jid.JID{}, err
	}
	if len(users) != 1 {
		return jid.JID{}, adhoc.ErrBadPayload.WithText("one account at a time")
	}
	return users[0], m.exists(ctx, users[0])
}

// exists is item-not-found for an unknown account (§5).
func (m *Module) exists(ctx context.Context, user jid.JID) error {
	_, err := m.o.Accounts.GetUser(ctx, user.Local())
	if errors.Is(err, store.ErrNotFound) {
		return noSuchAccount(user)
	}
	return err
}

// userRoster returns the account's roster as a jabber:iq:roster query
// inside the result form (§4.8), without the items that only hold a
// pending request (RFC 6121 §3.1.3: not roster items).
func (m *Module) userRoster(ctx context.Context, req adhoc.Request) (adhoc.Response, error) {
	user, err := m.oneAccount(ctx, req)
	if err != nil {
		return adhoc.Response{}, err
	}
	items, _, err := m.o.Accounts.Roster(ctx, user.Local())
	if err != nil {
		return adhoc.Response{}, err
	}
	q := xmlstream.New("query", "jabber:iq:roster")
	for _, it := range items {
		if it.Hidden {
			continue
		}
		el := xmlstream.New("item", "jabber:iq:roster", "jid", it.JID, "subscription", it.Subscription)
		if it.Name != "" {
			el.Set("name", it.Name)
		}
		if it.AskOut {
			el.Set("ask", "subscribe")
		}
		for _, g := range it.Groups {
			el.Add(xmlstream.NewText("group", "jabber:iq:roster", g))
		}
		q.Add(el)
	}
	f := dataform.New(dataform.TypeResult, NS, dataform.NewField("accountjids", dataform.JIDMulti, "", user.String()))
	return adhoc.Response{Status: adhoc.Completed, Form: f, FormPayload: []*xmlstream.Element{q}}, nil
}

// lastLogin is the account's latest successful authentication (§4.9):
// the newest login of its audit trail or of its sessions' start,
// XEP-0082 DateTime in UTC; a note says when none is known.
func (m *Module) lastLogin(ctx context.Context, req adhoc.Request) (adhoc.Response, error) {
	user, err := m.oneAccount(ctx, req)
	if err != nil {
		return adhoc.Response{}, err
	}
	var last time.Time
	for after := int64(0); ; {
		recs, err := m.o.Accounts.AuditRecords(ctx, store.AuditQuery{After: after, Actor: user.String(), Action: audit.ActionLogin})
		if err != nil {
			return adhoc.Response{}, err
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			if r.Time.After(last) {
				last = r.Time
			}
		}
		after = recs[len(recs)-1].Seq
	}
	for _, r := range m.o.Sessions.Resources(user) {
		if s, ok := r.Session.(sessionInfo); ok {
			if _, _, since := s.Info(); since.After(last) {
				last = since
			}
		}
	}
	f := dataform.New(dataform.TypeResult, NS, dataform.NewField("accountjids", dataform.JIDMulti, "", user.String()))
	res := adhoc.Response{Status: adhoc.Completed, Form: f}
	if last.IsZero() {
		res.Notes = []adhoc.Note{{Type: adhoc.Info, Text: user.String() + ": no login recorded"}}
		return res, nil
	}
	f.Fields = append(f.Fields, dataform.NewField("lastlogin", "", "Last login", last.UTC().Format(time.RFC3339)))
	return res, nil
}

// userStats gives the roster size, the online resources and the
// addresses they connected from (§4.10).
func (m *Module) userStats(ctx context.Context, req adhoc.Request) (adhoc.Response, error) {
	user, err := m.accountField(req)
	if err == nil {
		err = m.exists(ctx, user)
	}
	if err != nil {
		return adhoc.Response{}, err
	}
	items, _, err := m.o.Accounts.Roster(ctx, user.Local())
	if err != nil {
		return adhoc.Response{}, err
	}
	size := 0
	for _, it := range items {
		if !it.Hidden {
			size++
		}
	}
	var resources, ips []string
	for _, r := range m.o.Sessions.Resources(user) {
		resources = append(resources, r.Session.JID().Resource())
		if s, ok := r.Session.(sessionInfo); ok {
			if ip, _, _ := s.Info(); ip != "" && !slices.Contains(ips, ip) {
				ips = append(ips, ip)
			}
		}
	}
	slices.Sort(resources)
	slices.Sort(ips)
	f := dataform.New(dataform.TypeResult, NS,
		dataform.NewField("accountjid", dataform.JIDSingle, "", user.String()),
		dataform.NewField("rostersize", "", "Roster size", strconv.Itoa(size)),
		dataform.NewField("onlineresources", dataform.TextMulti, "Online resources", resources...),
		dataform.NewField("ipaddresses", dataform.TextMulti, "IP addresses", ips...))
	return adhoc.Response{Status: adhoc.Completed, Form: f}, nil
}
