package adminapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"parley/internal/audit"
	"parley/internal/control"
	"parley/internal/sasl"
	"parley/internal/store"
)

// meRoutes are an account owner's own routes: a token of role user
// (control.RoleUser, obtained with the account's password at POST
// /me/token) reaches these and nothing else; operator tokens do not reach
// them at all (an operator reads an account through /users, and a user's
// data export is the owner's act, audited as theirs).
var meRoutes = []route{
	{"GET", "/api/v1/me", userOnly, "", getMe},
	{"GET", "/api/v1/me/export", userOnly, audit.ActionExport, exportMe},
}

// userOnly marks a route for user tokens alone (guard: not even admin).
var userOnly = []string{control.RoleUser}

// Lifetimes of user tokens: a user token is for a download or a session
// of the web client, not for years.
const (
	DefaultUserTokenLifetime = time.Hour
	MaxUserTokenLifetime     = 30 * 24 * time.Hour
)

// UserData is what an account's export reads: the store's.
type UserData interface {
	GetUser(ctx context.Context, username string) (store.User, error)
	Roster(ctx context.Context, username string) ([]store.RosterItem, int64, error)
	VCard(ctx context.Context, username string) ([]byte, error)
	Blocklist(ctx context.Context, username string) ([]string, error)
	PrivateXMLKeys(ctx context.Context, username string) ([]string, error)
	PrivateXML(ctx context.Context, username, key string) ([]byte, error)
	PEPNodes(ctx context.Context, owner string) ([]store.PEPNode, error)
	PEPItems(ctx context.Context, owner, node string, ids []string, max int) ([]store.PEPItem, error)
	QueryArchive(ctx context.Context, owner string, q store.ArchiveQuery) (store.ArchivePage, error)
	UserUploads(ctx context.Context, owner string, now time.Time) ([]store.Upload, error)
}

// Blobs opens an upload's bytes (upload.Blobs).
type Blobs interface {
	Open(id string) (io.ReadSeekCloser, error)
}

// me is the account as its owner sees it.
type me struct {
	JID     string    `json:"jid"`
	Created time.Time `json:"created"`
}

// tokenUser returns the username of a request's user token (guard put it in
// the context).
func tokenUser(r *http.Request) string {
	t, _ := r.Context().Value(tokenKey{}).(store.APIToken)
	return t.Username
}

// tokenKey holds the request's token in its context.
type tokenKey struct{}

// activeUser returns the account of the request's user token, refused
// while it is disabled (a suspension also revokes the token).
func (a *API) activeUser(r *http.Request) (store.User, error) {
	if a.o.Data == nil {
		return store.User{}, errNoUserData
	}
	u, err := a.o.Data.GetUser(r.Context(), tokenUser(r))
	if errors.Is(err, store.ErrNotFound) {
		return u, &httpError{status: http.StatusForbidden, title: "forbidden", detail: "the account is gone"}
	}
	if err == nil && u.Disabled {
		return u, &httpError{status: http.StatusForbidden, title: "forbidden", detail: "the account is disabled"}
	}
	return u, err
}

func getMe(a *API, w http.ResponseWriter, r *http.Request) error {
	u, err := a.activeUser(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, me{JID: u.Username + "@" + a.o.Ops.Domain.String(), Created: u.Created.UTC()})
}

// issueUserToken serves POST /api/v1/me/token: the account's owner proves
// their password with HTTP Basic (RFC 7617; the username or the bare JID)
// and gets a token of role user for their account. A directory account's
// password is checked by the directory, as for SASL PLAIN. Only over TLS
// or from loopback (the password crosses the connection); failures count
// towards the address's back-off (limit.go) and are audited as failed
// logins; a disabled account, or one the directory no longer lists, is
// refused (403).
func (a *API) issueUserToken(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("X-Request-Id", reqID)
	if r.TLS == nil && !fromLoopback(r) {
		writeProblem(w, r, http.StatusForbidden, "use HTTPS", "a password is taken only over TLS")
		return
	}
	if a.tooManyFailures(w, r) {
		return
	}
	if a.o.Data == nil || a.o.Tokens == nil {
		writeProblem(w, r, http.StatusServiceUnavailable, "not available", "this server issues no user tokens")
		return
	}
	ip := remoteIP(r)
	name, password, ok := r.BasicAuth()
	username, uerr := a.username(name)
	rec := audit.Record{Action: audit.ActionLoginFailed, IP: ip, RequestID: reqID, Outcome: audit.OutcomeFailure,
		Details: map[string]string{"mechanism": "api-basic"}}
	if uerr == nil {
		rec.Actor = username + "@" + a.o.Ops.Domain.String()
		rec.Target = rec.Actor
	}
	u, verr := a.checkPassword(r.Context(), username, password)
	if ok && uerr == nil && errors.Is(verr, errNoDirectory) {
		// As SASL's temporary-auth-failure: not the client's fault, not
		// counted towards its back-off.
		writeProblem(w, r, http.StatusServiceUnavailable, "directory unavailable", "try again later")
		return
	}
	if ok && uerr == nil && errors.Is(verr, errDisabled) {
		u.Disabled, verr = true, nil
	}
	if !ok || uerr != nil || verr != nil {
		if verr != nil && !errors.Is(verr, errBadPassword) {
			a.o.Log.Error("adminapi: password check", "err", verr)
			writeProblem(w, r, http.StatusInternalServerError, "internal error", "")
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="parley", charset="UTF-8"`)
		writeProblem(w, r, http.StatusUnauthorized, "unauthorized", "this route needs the account's username and password (HTTP Basic)")
		if d := a.limit.failed(ip); d > 0 {
			rec.Details["closed_seconds"] = strconv.Itoa(retryAfter(d))
		}
		a.record(rec)
		return
	}
	if u.Disabled {
		writeProblem(w, r, http.StatusForbidden, "forbidden", "the account is disabled")
		rec.Outcome, rec.Details["reason"] = audit.OutcomeDenied, "disabled"
		a.record(rec)
		return
	}
	var body struct {
		Name    string `json:"name"`
		Expires string `json:"expires"`
	}
	r.Body = http.MaxBytesReader(w, r.Body, a.o.MaxBody)
	if r.ContentLength != 0 {
		if err := readJSON(r, &body); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	life := DefaultUserTokenLifetime
	if body.Expires != "" {
		d, err := control.ParseLifetime(body.Expires)
		if err != nil || d == 0 || d > MaxUserTokenLifetime {
			writeProblem(w, r, http.StatusBadRequest, "bad request", "expires: want a lifetime up to 30d (12h, 7d)")
			return
		}
		life = d
	}
	if len(body.Name) > 100 {
		writeProblem(w, r, http.StatusBadRequest, "bad request", "name: at most 100 bytes")
		return
	}
	expires := a.o.Now().Add(life).UTC().Truncate(time.Second)
	token, t, err := a.o.Ops.CreateToken(r.Context(), control.RoleUser, body.Name, username, expires)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.record(audit.Record{Actor: rec.Actor, Action: audit.ActionTokenCreated, Target: "token:" + t.ID, IP: ip,
		RequestID: reqID, Outcome: audit.OutcomeSuccess,
		Details: map[string]string{"role": control.RoleUser, "via": "api-basic", "expires": expires.Format(time.RFC3339)}})
	writeJSON(w, http.StatusCreated, struct {
		Token   string    `json:"token"`
		ID      string    `json:"id"`
		JID     string    `json:"jid"`
		Expires time.Time `json:"expires"`
	}{token, t.ID, rec.Actor, expires})
}

// Why a password was not accepted (checkPassword).
var (
	errBadPassword = errors.New("adminapi: bad username or password")
	errDisabled    = errors.New("adminapi: account disabled")
	errNoDirectory = errors.New("adminapi: the directory does not answer")
)

// checkPassword verifies password: for an account kept in a directory by
// Options.CheckPassword (a bind as the user), as SASL PLAIN does; for
// the others against the account's SCRAM keys (the only form in which
// passwords are kept here): the StoredKey derived from it with the
// stored salt and count must equal the stored one (RFC 5802 §3),
// compared in constant time. An unknown account costs the same
// derivation, so the time of a refusal does not tell whether it exists.
func (a *API) checkPassword(ctx context.Context, username, password string) (store.User, error) {
	if a.o.CheckPassword != nil && username != "" {
		err := a.o.CheckPassword(ctx, username, password)
		var f *sasl.Failure
		switch {
		case err == nil:
			// The bind made the account if it was new.
			return a.o.Data.GetUser(ctx, username)
		case errors.As(err, &f) && f.Condition == sasl.AccountDisabled:
			return store.User{}, errDisabled
		case errors.As(err, &f):
			return store.User{}, errBadPassword
		case !errors.Is(err, sasl.ErrUnknownUser):
			// The directory logged why.
			return store.User{}, errNoDirectory
		}
	}
	u, err := a.o.Data.GetUser(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	h, keys := sasl.SHA256, u.SHA256
	if len(keys.StoredKey) == 0 {
		h, keys = sasl.SHA1, u.SHA1
	}
	known := err == nil && len(keys.StoredKey) > 0
	if !known {
		h, keys = sasl.SHA256, store.ScramKeys{Salt: []byte("parley-unknown-account"), Iterations: sasl.DefaultIterations}
	}
	got, derr := sasl.DeriveKeys(h, password, keys.Salt, keys.Iterations)
	if derr != nil || !known || subtle.ConstantTimeCompare(got.StoredKey, keys.StoredKey) != 1 {
		return u, errBadPassword
	}
	return u, nil
}
