package adminapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"parley/internal/control"
	"parley/internal/jid"
)

// user is an account as the API shows it: never its keys.
type user struct {
	JID      string    `json:"jid"`
	Username string    `json:"username"`
	Created  time.Time `json:"created"`
	Disabled bool      `json:"disabled"`
	Bot      bool      `json:"bot"`
	Sessions int       `json:"sessions"`
}

func userOf(a control.Account) user {
	return user{JID: a.JID.String(), Username: a.Username, Created: a.Created.UTC(), Disabled: a.Disabled, Bot: a.Bot, Sessions: a.Sessions}
}

// targetKey holds what a change was done to, for its audit record.
type targetKey struct{}

func setTarget(r *http.Request, target string) {
	if p, ok := r.Context().Value(targetKey{}).(*string); ok {
		*p = target
	}
}

func withTarget(r *http.Request) (*http.Request, *string) {
	p := new(string)
	return r.WithContext(context.WithValue(r.Context(), targetKey{}, p)), p
}

// username reads a user: a bare JID on the server's domain or a bare
// username, normalised (RFC 7622).
func (a *API) username(s string) (string, error) {
	if !strings.ContainsAny(s, "@/") {
		u, err := jid.Localpart(s)
		if err != nil || u == "" {
			return "", badRequest("not a valid username: " + s)
		}
		return u, nil
	}
	j, err := jid.Parse(s)
	if err != nil || j.Local() == "" || !j.IsBare() {
		return "", badRequest("not a bare JID with a username: " + s)
	}
	if j.Domain() != a.o.Ops.Domain.String() {
		return "", notFound(s + " is not on this server's domain")
	}
	return j.Local(), nil
}

// pathUser reads {user} and names it as the change's target.
func (a *API) pathUser(r *http.Request) (string, error) {
	u, err := a.username(r.PathValue("user"))
	if err != nil {
		return "", err
	}
	setTarget(r, u+"@"+a.o.Ops.Domain.String())
	return u, nil
}

// pathAccount is pathUser for an account that must exist: a missing one
// is the error of Ops.Account (404).
func (a *API) pathAccount(r *http.Request) (string, error) {
	u, err := a.pathUser(r)
	if err != nil {
		return "", err
	}
	if _, err := a.o.Ops.Account(r.Context(), u); err != nil {
		return "", err
	}
	return u, nil
}

func listUsers(a *API, w http.ResponseWriter, r *http.Request) error {
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	names, err := a.o.Ops.ListUsers(r.Context())
	if err != nil {
		return err
	}
	if q := strings.ToLower(r.URL.Query().Get("q")); q != "" {
		kept := names[:0]
		for _, n := range names {
			if strings.Contains(n, q) {
				kept = append(kept, n)
			}
		}
		names = kept
	}
	p := paginate(names, func(s string) string { return s }, after, limit)
	out := page[user]{Items: make([]user, 0, len(p.Items)), Next: p.Next}
	for _, n := range p.Items {
		acc, err := a.o.Ops.Account(r.Context(), n)
		if err != nil {
			continue // deleted meanwhile
		}
		out.Items = append(out.Items, userOf(acc))
	}
	return writeJSON(w, http.StatusOK, out)
}

func getUser(a *API, w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	acc, err := a.o.Ops.Account(r.Context(), u)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userOf(acc))
}

func createUser(a *API, w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Bot      bool   `json:"bot"` // an automated account: disco client/bot
	}
	if err := readJSON(r, &body); err != nil {
		return err
	}
	u, err := a.username(body.Username)
	if err != nil {
		return err
	}
	setTarget(r, u+"@"+a.o.Ops.Domain.String())
	if body.Password == "" {
		return badRequest("password: empty")
	}
	if err := a.o.Ops.AddAccount(r.Context(), u, body.Password, body.Bot); err != nil {
		return err
	}
	acc, err := a.o.Ops.Account(r.Context(), u)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+acc.JID.String())
	return writeJSON(w, http.StatusCreated, userOf(acc))
}

// ended is the answer of a change that ended sessions.
type ended struct {
	SessionsEnded int `json:"sessions_ended"`
}

func deleteUser(a *API, w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	n, err := a.o.Ops.DeleteUser(r.Context(), u)
	if err != nil {
		return err
	}
	if a.o.Forget != nil {
		a.o.Forget(u)
	}
	return writeJSON(w, http.StatusOK, ended{n})
}

func setDisabled(disabled bool) func(a *API, w http.ResponseWriter, r *http.Request) error {
	return func(a *API, w http.ResponseWriter, r *http.Request) error {
		u, err := a.pathUser(r)
		if err != nil {
			return err
		}
		n, err := a.o.Ops.SetDisabled(r.Context(), u, disabled)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, ended{n})
	}
}

func setPassword(a *API, w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	var body struct {
		Password string `json:"password"`
	}
	if err := readJSON(r, &body); err != nil {
		return err
	}
	if body.Password == "" {
		return badRequest("password: empty")
	}
	n, err := a.o.Ops.SetPassword(r.Context(), u, body.Password, jid.JID{})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ended{n})
}

func suspendUser(a *API, w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	s, err := a.o.Ops.Suspend(r.Context(), u)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		SessionsEnded int `json:"sessions_ended"`
		TokensRevoked int `json:"tokens_revoked"`
	}{s.Ended, s.Tokens})
}

func resumeUser(a *API, w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	if err := a.o.Ops.Resume(r.Context(), u); err != nil {
		return err
	}
	acc, err := a.o.Ops.Account(r.Context(), u)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userOf(acc))
}
