package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"parley/internal/audit"
	"parley/internal/dataform"
	"parley/internal/im/adhoc"
	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/sasl"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// NS is the XEP-0133 namespace: the FORM_TYPE of its forms and the
// prefix of its command nodes.
const NS = "http://jabber.org/protocol/admin"

// Command nodes (XEP-0133 §4).
const (
	NodeAddUser            = NS + "#add-user"
	NodeDeleteUser         = NS + "#delete-user"
	NodeDisableUser        = NS + "#disable-user"
	NodeReenableUser       = NS + "#reenable-user"
	NodeEndUserSession     = NS + "#end-user-session"
	NodeChangeUserPassword = NS + "#change-user-password"
	NodeOnlineUsersNum     = NS + "#get-online-users-num"
	NodeOnlineUsersList    = NS + "#get-online-users-list"
	NodeAnnounce           = NS + "#announce"
	NodeUserRoster         = NS + "#get-user-roster"
	NodeUserLastLogin      = NS + "#get-user-lastlogin"
	NodeUserStats          = NS + "#user-stats"
	NodeRegisteredNum      = NS + "#get-registered-users-num"
	NodeDisabledNum        = NS + "#get-disabled-users-num"
	NodeActiveNum          = NS + "#get-active-users-num"
	NodeRegisteredList     = NS + "#get-registered-users-list"
	NodeDisabledList       = NS + "#get-disabled-users-list"
	NodeActiveList         = NS + "#get-active-users"
	NodeIdleNum            = NS + "#get-idle-users-num"
	NodeIdleList           = NS + "#get-idle-users"
)

// MaxListed bounds get-online-users-list whatever max_items says, so the
// reply stays a reasonable stanza; a longer list is cut with a warning.
const MaxListed = 1000

// Ops are the operator's operations on accounts and their sessions,
// shared with the CLI and the admin API; *control.Ops has them.
type Ops interface {
	// AddUser creates an account; store.ErrExists if it exists.
	AddUser(ctx context.Context, username, password string) error
	// DeleteUser deletes an account and its data and ends its sessions;
	// store.ErrNotFound.
	DeleteUser(ctx context.Context, username string) (int, error)
	// SetPassword changes the password and ends the account's sessions
	// but keep; store.ErrNotFound.
	SetPassword(ctx context.Context, username, password string, keep jid.JID) (int, error)
	// EndSessions ends the sessions of bare but keep with e.
	EndSessions(bare, keep jid.JID, e *stanza.StreamError) int
}

// Disabler disables and re-enables accounts; the store has it (control
// has no such operation yet).
type Disabler interface {
	// SetUserDisabled disables or re-enables an account; store.ErrNotFound.
	SetUserDisabled(ctx context.Context, username string, disabled bool) error
}

// Sessions is the running server's session table; *router.Router has it.
type Sessions interface {
	Users() []jid.JID
	Resources(bare jid.JID) []router.Resource
	Lookup(full jid.JID) (router.Resource, bool)
	DeliverTo(full jid.JID, st *stanza.Stanza) bool
}

// Commands is the registry the commands join; *adhoc.Module has it.
type Commands interface {
	Add(c adhoc.Command)
}

// Options are the module's dependencies.
type Options struct {
	// Admins are the site admins' bare JIDs.
	Admins   []jid.JID
	Ops      Ops
	Disabler Disabler
	Commands Commands
	// Sessions defaults to the router, at Register.
	Sessions Sessions
	// OnDelete, if set, is called with the username of each deleted
	// account, for modules that cache per-account state.
	OnDelete func(username string)
	// Accounts, if set, adds the commands that read accounts: a user's
	// roster, last login and statistics, the registered, disabled,
	// active and idle users (§4.8-4.10, 4.13, 4.14, 4.16-4.19, 4.21, 4.22).
	Accounts Accounts
	// Audit, if set, records what the commands change (accounts added,
	// deleted, disabled, re-enabled, passwords, sessions ended), with the
	// admin's bare JID as the actor.
	Audit func(audit.Record)
}

// Module holds the commands.
type Module struct {
	o      Options
	domain jid.JID
}

// New returns the module.
func New(o Options) *Module { return &Module{o: o} }

// Register adds the commands to the registry.
func (m *Module) Register(r *router.Router) {
	m.domain = r.Domain()
	if m.o.Sessions == nil {
		m.o.Sessions = r
	}
	form := func(node, name, title, instr string, fields []dataform.Field, submit func(context.Context, adhoc.Request) (adhoc.Response, error)) {
		m.o.Commands.Add(adhoc.Command{Node: node, Name: name, Allowed: m.isAdmin,
			Run: func(ctx context.Context, _ *adhoc.Session, req adhoc.Request) (adhoc.Response, error) {
				if req.Action == adhoc.Execute {
					f := dataform.New(dataform.TypeForm, NS, fields...)
					f.Title, f.Instructions = title, []string{instr}
					return adhoc.Response{Status: adhoc.Executing, Form: f}, nil
				}
				if req.Form == nil {
					return adhoc.Response{}, adhoc.ErrBadPayload.WithText("submit the form")
				}
				if ft := req.Form.FormType(); ft != "" && ft != NS {
					return adhoc.Response{}, adhoc.ErrBadPayload.WithText("the form is not " + NS)
				}
				return submit(ctx, req)
			}})
	}
	jids := func(label string) []dataform.Field {
		f := dataform.NewField("accountjids", dataform.JIDMulti, label)
		f.Required = true
		return []dataform.Field{f}
	}
	required := func(f dataform.Field) dataform.Field { f.Required = true; return f }
	m.registerReports(form)
	form(NodeAddUser, "Add User", "Adding a User", "Fill out this form to add a user.", []dataform.Field{
		required(dataform.NewField("accountjid", dataform.JIDSingle, "The Jabber ID for the account to be added")),
		required(dataform.NewField("password", dataform.TextPrivate, "The password for this account")),
		required(dataform.NewField("password-verify", dataform.TextPrivate, "Retype password")),
	}, m.addUser)
	form(NodeDeleteUser, "Delete User", "Deleting a User", "Fill out this form to delete a user.",
		jids("The Jabber ID(s) to delete"), m.eachAccount(audit.ActionAccountDeleted, m.deleteUser))
	form(NodeDisableUser, "Disable User", "Disabling a User", "Fill out this form to disable a user.",
		jids("The Jabber ID(s) to disable"), m.eachAccount(audit.ActionAccountDisabled, m.disableUser))
	form(NodeReenableUser, "Re-Enable User", "Re-Enable a User", "Fill out this form to re-enable a user.",
		jids("The Jabber ID(s) to re-enable"), m.eachAccount(audit.ActionAccountEnabled, m.reenableUser))
	form(NodeEndUserSession, "End User Session", "Ending a User Session", "Fill out this form to end a user's session.",
		jids("The Jabber ID(s) for which to end sessions"), m.endSessions)
	form(NodeChangeUserPassword, "Change User Password", "Changing a User Password", "Fill out this form to change a user's password.", []dataform.Field{
		required(dataform.NewField("accountjid", dataform.JIDSingle, "The Jabber ID for this account")),
		required(dataform.NewField("password", dataform.TextPrivate, "The password for this account")),
	}, m.changePassword)
	form(NodeOnlineUsersList, "Get List of Online Users", "Requesting List of Online Users",
		"Fill out this form to request the online users of this service.", []dataform.Field{maxItems()}, m.onlineList)
	announce := dataform.NewField("announcement", dataform.TextMulti, "Announcement")
	announce.Required = true
	form(NodeAnnounce, "Send Announcement to Online Users", "Making an Announcement",
		"Fill out this form to make an announcement to all active users of this service.", []dataform.Field{announce}, m.announce)
	m.o.Commands.Add(adhoc.Command{Node: NodeOnlineUsersNum, Name: "Get Number of Online Users", Allowed: m.isAdmin,
		Run: func(context.Context, *adhoc.Session, adhoc.Request) (adhoc.Response, error) {
			f := dataform.New(dataform.TypeResult, NS, dataform.NewField("onlineusersnum", "", "The number of online users",
				strconv.Itoa(len(m.o.Sessions.Users()))))
			return adhoc.Response{Status: adhoc.Completed, Form: f}, nil
		}})
}

// isAdmin tells whether a requester is a site admin (XEP-0133 §7).
func (m *Module) isAdmin(requester jid.JID) bool {
	return slices.Contains(m.o.Admins, requester.Bare())
}

// account reads a JID naming an account of this server: bare, or with a
// resource when full is true.
func (m *Module) account(v string, full bool) (jid.JID, error) {
	j, err := jid.Parse(strings.TrimSpace(v))
	switch {
	case err != nil:
		return j, adhoc.ErrBadPayload.WithText(strconv.Quote(v) + " is not a JID")
	case j.Local() == "" || j.Domain() != m.domain.String():
		return j, adhoc.ErrBadPayload.WithText(v + " is not an account of " + m.domain.String())
	case !full && !j.IsBare():
		return j, adhoc.ErrBadPayload.WithText(v + " is not a bare JID")
	}
	return j, nil
}

// accounts reads accountjids: at least one, all of this server.
func (m *Module) accounts(req adhoc.Request, full bool) ([]jid.JID, error) {
	vals := req.Form.Values("accountjids")
	if len(vals) == 0 {
		return nil, adhoc.ErrBadPayload.WithText("name at least one account")
	}
	out := make([]jid.JID, 0, len(vals))
	for _, v := range vals {
		j, err := m.account(v, full)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// record audits a change the requester made to target (an account's
// bare JID, or a session's full JID): success, or failure with err.
func (m *Module) record(req adhoc.Request, action string, target jid.JID, err error, details ...string) {
	if m.o.Audit == nil {
		return
	}
	r := audit.Record{Actor: req.From.Bare().String(), Action: action, Target: target.String(),
		Outcome: audit.OutcomeSuccess, Details: map[string]string{"via": "xep-0133"}}
	for i := 0; i+1 < len(details); i += 2 {
		r.Details[details[i]] = details[i+1]
	}
	if err != nil {
		r.Outcome, r.Details["error"] = audit.OutcomeFailure, err.Error()
	}
	m.o.Audit(r)
}

// eachAccount applies do to every account of accountjids, audits each
// as action, and reports the failures as error notes (XEP-0050 §3.5).
func (m *Module) eachAccount(action string, do func(ctx context.Context, user jid.JID) (string, error)) func(context.Context, adhoc.Request) (adhoc.Response, error) {
	return func(ctx context.Context, req adhoc.Request) (adhoc.Response, error) {
		users, err := m.accounts(req, false)
		if err != nil {
			return adhoc.Response{}, err
		}
		res := adhoc.Response{Status: adhoc.Completed}
		for _, u := range users {
			done, err := do(ctx, u)
			m.record(req, action, u, err)
			switch {
			case errors.Is(err, store.ErrNotFound):
				res.Notes = append(res.Notes, adhoc.Note{Type: adhoc.Error, Text: u.String() + ": no such account"})
			case err != nil:
				return adhoc.Response{}, err
			default:
				res.Notes = append(res.Notes, adhoc.Note{Type: adhoc.Info, Text: u.String() + ": " + done})
			}
		}
		return res, nil
	}
}

// end terminates the sessions of a bare JID, or the one of a full JID,
// and returns how many ended.
func (m *Module) end(j jid.JID, e *stanza.StreamError) int {
	if j.IsBare() {
		return m.o.Ops.EndSessions(j, jid.JID{}, e)
	}
	if r, ok := m.o.Sessions.Lookup(j); ok {
		r.Session.Terminate(e)
		return 1
	}
	return 0
}

// passwordError is bad-payload where err is SCRAM refusing a password
// (RFC 8265 OpaqueString, or empty), err otherwise.
func passwordError(err error) error {
	if errors.Is(err, sasl.ErrPasswordPrep) || errors.Is(err, sasl.ErrEmptyPassword) {
		return adhoc.ErrBadPayload.WithText("the password is not acceptable")
	}
	return err
}

// accountField reads the form's accountjid: one bare JID of an account
// of this server.
func (m *Module) accountField(req adhoc.Request) (jid.JID, error) {
	v, err := req.Form.Value("accountjid")
	if err != nil {
		return jid.JID{}, adhoc.ErrBadPayload.WithText("one accountjid")
	}
	return m.account(v, false)
}

// noSuchAccount is item-not-found for an unknown account (XEP-0133 §5).
func noSuchAccount(user jid.JID) *stanza.Error {
	return stanza.ErrItemNotFound.WithText(user.String() + ": no such account")
}

func (m *Module) addUser(ctx context.Context, req adhoc.Request) (adhoc.Response, error) {
	user, err := m.accountField(req)
	if err != nil {
		return adhoc.Response{}, err
	}
	pw, err1 := req.Form.Value("password")
	verify, err2 := req.Form.Value("password-verify")
	switch {
	case err1 != nil || err2 != nil || pw == "":
		return adhoc.Response{}, adhoc.ErrBadPayload.WithText("give a password")
	case req.Form.Has("password-verify") && verify != pw:
		return adhoc.Response{}, adhoc.ErrBadPayload.WithText("the passwords differ")
	}
	err = m.o.Ops.AddUser(ctx, user.Local(), pw)
	m.record(req, audit.ActionAccountCreated, user, err)
	switch {
	case errors.Is(err, store.ErrExists):
		// XEP-0133 §5: a user already exists with that username.
		return adhoc.Response{}, stanza.ErrConflict.WithText(user.String() + " exists")
	case err != nil:
		return adhoc.Response{}, passwordError(err)
	}
	return adhoc.Response{Status: adhoc.Completed, Notes: []adhoc.Note{{Type: adhoc.Info, Text: user.String() + ": created"}}}, nil
}

// deleteUser removes the account and ends its sessions (XEP-0133 §4.2),
// as `parley user del` does.
func (m *Module) deleteUser(ctx context.Context, user jid.JID) (string, error) {
	// Not the count DeleteUser returns: it ends sessions before and
	// after the deletion, and one still closing is counted twice.
	if _, err := m.o.Ops.DeleteUser(ctx, user.Local()); err != nil {
		return "", err
	}
	if m.o.OnDelete != nil {
		m.o.OnDelete(user.Local())
	}
	return "deleted, its sessions ended", nil
}

// disableUser blocks logins first, then ends the sessions (§4.3).
func (m *Module) disableUser(ctx context.Context, user jid.JID) (string, error) {
	if err := m.o.Disabler.SetUserDisabled(ctx, user.Local(), true); err != nil {
		return "", err
	}
	n := m.end(user, stanza.ErrStreamNotAuthorized.WithText("account disabled"))
	return fmt.Sprintf("disabled, %d sessions ended", n), nil
}

func (m *Module) reenableUser(ctx context.Context, user jid.JID) (string, error) {
	if err := m.o.Disabler.SetUserDisabled(ctx, user.Local(), false); err != nil {
		return "", err
	}
	return "re-enabled", nil
}

// endSessions ends all sessions of a bare JID, the one of a full JID
// (§4.5); the user may log in again.
func (m *Module) endSessions(_ context.Context, req adhoc.Request) (adhoc.Response, error) {
	targets, err := m.accounts(req, true)
	if err != nil {
		return adhoc.Response{}, err
	}
	res := adhoc.Response{Status: adhoc.Completed}
	for _, j := range targets {
		n := m.end(j, stanza.ErrStreamPolicyViolation.WithText("session ended by an administrator"))
		m.record(req, audit.ActionSessionEndedByAdmin, j, nil, "sessions", strconv.Itoa(n))
		res.Notes = append(res.Notes, adhoc.Note{Type: adhoc.Info, Text: fmt.Sprintf("%s: %d sessions ended", j, n)})
	}
	return res, nil
}

// changePassword sets the password and, as `parley user passwd` does,
// ends the account's sessions that logged in with the old one (all but
// the requester's own, when admins change their own password).
func (m *Module) changePassword(ctx context.Context, req adhoc.Request) (adhoc.Response, error) {
	user, err := m.accountField(req)
	if err != nil {
		return adhoc.Response{}, err
	}
	pw, err := req.Form.Value("password")
	if err != nil || pw == "" {
		return adhoc.Response{}, adhoc.ErrBadPayload.WithText("give a password")
	}
	n, err := m.o.Ops.SetPassword(ctx, user.Local(), pw, req.From)
	m.record(req, audit.ActionPasswordChanged, user, err, "sessions", strconv.Itoa(n))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return adhoc.Response{}, noSuchAccount(user)
	case err != nil:
		return adhoc.Response{}, passwordError(err)
	}
	return adhoc.Response{Status: adhoc.Completed, Notes: []adhoc.Note{{Type: adhoc.Info,
		Text: fmt.Sprintf("%s: password changed, %d sessions ended", user, n)}}}, nil
}

// onlineList lists the users with a session, sorted, up to max_items
// (§4.20) and MaxListed.
func (m *Module) onlineList(_ context.Context, req adhoc.Request) (adhoc.Response, error) {
	limit, err := maxListed(req)
	if err != nil {
		return adhoc.Response{}, err
	}
	users := m.o.Sessions.Users()
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.String()
	}
	return listed("onlineuserjids", "The list of all online users", "online users", names, limit), nil
}

// announce sends the text as a headline from the domain to every session
// (§4.23: "only to users who currently have a session"): headlines are
// neither stored offline nor archived.
func (m *Module) announce(_ context.Context, req adhoc.Request) (adhoc.Response, error) {
	text := strings.TrimSpace(req.Form.TextMulti("announcement"))
	if text == "" {
		return adhoc.Response{}, adhoc.ErrBadPayload.WithText("the announcement is empty")
	}
	n := 0
	for _, u := range m.o.Sessions.Users() {
		for _, r := range m.o.Sessions.Resources(u) {
			to := r.Session.JID()
			msg := stanza.New(stanza.Message, m.domain, to, "headline", stanza.NewID())
			msg.AddChild(xmlstream.NewText("body", stanza.NSClient, text))
			if m.o.Sessions.DeliverTo(to, msg) {
				n++
			}
		}
	}
	return adhoc.Response{Status: adhoc.Completed, Notes: []adhoc.Note{{Type: adhoc.Info, Text: fmt.Sprintf("sent to %d sessions", n)}}}, nil
}
