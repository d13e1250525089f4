package adminapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"parley/internal/audit"
	"parley/internal/control"
	"parley/internal/oidc"
	"parley/internal/store"
)

// Single sign-on through an OpenID Connect provider (docs/design/26_oidc.md):
// GET /sso/login sends the browser to the provider, GET /sso/callback
// takes its answer and gives an API token of the role asked for, and for
// an account's login a FAST token for the device the XMPP client names.
// Neither route takes a bearer token: the provider authenticates.

// SSO configures single sign-on; a nil OIDC: the /sso routes answer 404.
type SSO struct {
	OIDC *oidc.Client
	// CreateAccounts creates a missing account at its first login
	// ([auth.oidc] create_accounts).
	CreateAccounts bool
	// TokenLifetime is the life of the API token a login gets; default
	// DefaultUserTokenLifetime.
	TokenLifetime time.Duration
	// Fast issues FAST tokens (c2s.Server); nil: none are issued.
	Fast FastIssuer
}

// FastIssuer gives an account's device a XEP-0484 token (c2s.Server).
type FastIssuer interface {
	IssueFastToken(ctx context.Context, username, userAgent, software, name string) (string, time.Time, error)
}

// ssoCookie binds a login to the browser that began it (login CSRF): it
// holds the state, which the callback must bring back in its URL too.
const ssoCookie = "parley_sso"

// maxDeviceID is c2s's bound on a SASL2 user-agent id.
const maxDeviceID = 128

// handleSSO registers the routes (New); paths collects their patterns.
func (a *API) handleSSO(paths map[string]bool) {
	a.mux.HandleFunc("GET /api/v1/sso/login", a.ssoLogin)
	a.mux.HandleFunc("GET /api/v1/sso/callback", a.ssoCallback)
	paths["/api/v1/sso/login"] = true
	paths["/api/v1/sso/callback"] = true
}

// ssoOff answers when no provider is configured (404: the routes do
// not exist on this server, as far as a client can tell).
func (a *API) ssoOff(w http.ResponseWriter, r *http.Request) bool {
	if a.o.SSO.OIDC != nil {
		return false
	}
	writeProblem(w, r, http.StatusNotFound, "single sign-on is off", "this server has no [auth.oidc] provider")
	return true
}

// ssoLogin serves GET /api/v1/sso/login?role=R&device=ID: a redirect to
// the provider. role is an operator role, or empty (or user) for the
// account's own login; device is the XMPP client's SASL2 user-agent id,
// for a FAST token (one is drawn for an account's login without it).
func (a *API) ssoLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", newRequestID())
	if a.ssoOff(w, r) || a.tooManyFailures(w, r) {
		return
	}
	q := r.URL.Query()
	req := oidc.Request{Role: q.Get("role"), Device: q.Get("device")}
	if req.Role == "" {
		req.Role = control.RoleUser
	}
	switch {
	case req.Role != control.RoleUser && !control.ValidRole(req.Role):
		writeProblem(w, r, http.StatusBadRequest, "bad request", "role: want user or one of admin, helpdesk, compliance, auditor")
		return
	case len(req.Device) > maxDeviceID || !utf8.ValidString(req.Device):
		writeProblem(w, r, http.StatusBadRequest, "bad request", "device: at most 128 bytes of UTF-8")
		return
	case req.Device != "" && req.Role != control.RoleUser:
		writeProblem(w, r, http.StatusBadRequest, "bad request", "device: only an account's login (no role) gets a FAST token")
		return
	}
	if req.Role == control.RoleUser && req.Device == "" && a.o.SSO.Fast != nil {
		req.Device = newDeviceID()
	}
	to, state, err := a.o.SSO.OIDC.Begin(r.Context(), req)
	switch {
	case errors.Is(err, oidc.ErrTooManyPending):
		w.Header().Set("Retry-After", "60")
		writeProblem(w, r, http.StatusServiceUnavailable, "too many logins", "too many logins are waiting for the identity provider; retry later")
		return
	case err != nil:
		a.o.Log.Error("adminapi: SSO login", "err", err)
		writeProblem(w, r, http.StatusBadGateway, "identity provider unavailable", "the identity provider could not be reached")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: state, Path: "/api/v1/sso/", MaxAge: int(oidc.PendingLife / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, to, http.StatusFound)
}

// ssoGrant is what a login gets.
type ssoGrant struct {
	Token   string    `json:"token"`
	ID      string    `json:"id"`
	Role    string    `json:"role"`
	JID     string    `json:"jid"`
	Expires time.Time `json:"expires"`
	Fast    *ssoFast  `json:"fast,omitempty"`
}

// ssoFast is a FAST token for the XMPP client's device (XEP-0484).
type ssoFast struct {
	Device    string    `json:"device"` // the SASL2 user-agent id to log in with
	Mechanism string    `json:"mechanism"`
	Token     string    `json:"token"`
	Expires   time.Time `json:"expires"`
}

// ssoCallback serves GET /api/v1/sso/callback?code=C&state=S, where the
// provider sends the browser back. Every refusal is audited as a failed
// login (reason in the details) and counts towards the address's
// back-off, like a bad password.
func (a *API) ssoCallback(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("X-Request-Id", reqID)
	if a.ssoOff(w, r) || a.tooManyFailures(w, r) {
		return
	}
	ip := remoteIP(r)
	rec := audit.Record{Action: audit.ActionLoginFailed, IP: ip, RequestID: reqID, Outcome: audit.OutcomeFailure,
		Details: map[string]string{"mechanism": "oidc"}}
	refuse := func(status int, detail, reason string) {
		writeProblem(w, r, status, "login refused", detail)
		rec.Details["reason"] = reason
		if d := a.limit.failed(ip); d > 0 {
			rec.Details["closed_seconds"] = strconv.Itoa(retryAfter(d))
		}
		a.record(rec)
	}
	q := r.URL.Query()
	// The cookie has done its work whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Path: "/api/v1/sso/", MaxAge: -1, HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	if e := q.Get("error"); e != "" {
		// OAuth 2.0 §4.1.2.1: the provider or the person said no.
		refuse(http.StatusForbidden, "the identity provider refused the login", "provider: "+clip(e, 64))
		return
	}
	state, code := q.Get("state"), q.Get("code")
	if state == "" || code == "" || len(state) > 256 || len(code) > 4096 {
		refuse(http.StatusBadRequest, "the callback needs code and state", "malformed")
		return
	}
	if c, err := r.Cookie(ssoCookie); err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		refuse(http.StatusForbidden, "this login was not begun in this browser (GET /api/v1/sso/login)", "cookie")
		return
	}
	id, err := a.o.SSO.OIDC.Finish(r.Context(), state, code)
	if id.Subject != "" {
		rec.Details["subject"], rec.Details["issuer"] = id.Subject, id.Issuer
	}
	var rerr *oauth2.RetrieveError
	switch {
	case err == nil:
	case errors.Is(err, oidc.ErrUnknownState):
		refuse(http.StatusBadRequest, "unknown, used or expired login; begin again at /api/v1/sso/login", "state")
		return
	case errors.As(err, &rerr):
		refuse(http.StatusUnauthorized, "the identity provider did not accept the code", "code: "+clip(rerr.ErrorCode, 64))
		return
	case errors.Is(err, oidc.ErrProvider):
		a.o.Log.Error("adminapi: SSO callback", "err", err)
		writeProblem(w, r, http.StatusBadGateway, "identity provider unavailable", "the identity provider could not be reached")
		return
	case errors.Is(err, oidc.ErrNonce):
		refuse(http.StatusUnauthorized, "the ID token is not for this login", "nonce")
		return
	case errors.Is(err, oidc.ErrInvalidToken):
		a.o.Log.Warn("adminapi: SSO ID token refused", "err", err, "remote", ip)
		refuse(http.StatusUnauthorized, "the ID token is not valid", "id-token")
		return
	default: // oidc.ErrNoUsername
		refuse(http.StatusForbidden, "the ID token names no account", "username")
		return
	}
	username, err := a.username(id.Name)
	if err != nil {
		refuse(http.StatusForbidden, "the ID token's username is not an account of this server", "username")
		return
	}
	bare := username + "@" + a.o.Ops.Domain.String()
	rec.Actor, rec.Target = bare, bare
	if id.Role != control.RoleUser && !slices.Contains(id.Roles, id.Role) {
		refuse(http.StatusForbidden, "the identity provider grants no role "+id.Role, "role")
		return
	}
	if id.Role == control.RoleUser {
		if status, detail, reason, err := a.ssoAccount(r, username, reqID); err != nil {
			a.fail(w, r, err)
			return
		} else if status != 0 {
			refuse(status, detail, reason)
			return
		}
	}
	a.ssoGrant(w, r, id, username, bare, reqID)
}

// ssoAccount checks (or creates) the account of a user login; a status
// other than 0 is a refusal.
func (a *API) ssoAccount(r *http.Request, username, reqID string) (int, string, string, error) {
	u, err := a.o.Ops.Users.GetUser(r.Context(), username)
	switch {
	case errors.Is(err, store.ErrNotFound) && a.o.SSO.CreateAccounts:
		err = a.o.Ops.Users.CreateUser(r.Context(), store.User{Username: username, Created: a.o.Now().UTC()})
		if errors.Is(err, store.ErrExists) { // a login beside this one made it
			return 0, "", "", nil
		}
		if err != nil {
			return 0, "", "", err
		}
		a.record(audit.Record{Actor: "sso", Action: audit.ActionAccountCreated, Target: username + "@" + a.o.Ops.Domain.String(),
			IP: remoteIP(r), RequestID: reqID, Outcome: audit.OutcomeSuccess, Details: map[string]string{"via": "oidc"}})
		return 0, "", "", nil
	case errors.Is(err, store.ErrNotFound):
		return http.StatusForbidden, "there is no account " + username + " on this server", "no-account", nil
	case err != nil:
		return 0, "", "", err
	case u.Disabled:
		return http.StatusForbidden, "the account is disabled", "disabled", nil
	}
	return 0, "", "", nil
}

// ssoGrant issues the login's API token (and FAST token) and records the
// login.
func (a *API) ssoGrant(w http.ResponseWriter, r *http.Request, id oidc.Identity, username, bare, reqID string) {
	life := a.o.SSO.TokenLifetime
	if life <= 0 {
		life = DefaultUserTokenLifetime
	}
	expires := a.o.Now().Add(life).UTC().Truncate(time.Second)
	owner, name := username, "sso"
	if id.Role != control.RoleUser {
		owner, name = "", "sso "+bare // operator tokens name no account
	}
	token, t, err := a.o.Ops.CreateToken(r.Context(), id.Role, name, owner, expires)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	g := ssoGrant{Token: token, ID: t.ID, Role: id.Role, JID: bare, Expires: expires}
	details := map[string]string{"mechanism": "oidc", "role": id.Role, "token": t.ID, "subject": id.Subject, "issuer": id.Issuer}
	if id.Role == control.RoleUser && id.Device != "" && a.o.SSO.Fast != nil {
		ft, fexp, err := a.o.SSO.Fast.IssueFastToken(r.Context(), username, id.Device, "", "single sign-on")
		if err != nil {
			a.fail(w, r, err)
			return
		}
		g.Fast = &ssoFast{Device: id.Device, Mechanism: "HT-SHA-256-NONE", Token: ft, Expires: fexp.UTC()}
		details["device"] = id.Device
	}
	ip := remoteIP(r)
	a.record(audit.Record{Actor: bare, Action: audit.ActionLogin, IP: ip, RequestID: reqID, Outcome: audit.OutcomeSuccess, Details: details})
	a.record(audit.Record{Actor: bare, Action: audit.ActionTokenCreated, Target: "token:" + t.ID, IP: ip, RequestID: reqID,
		Outcome: audit.OutcomeSuccess, Details: map[string]string{"role": id.Role, "via": "oidc", "expires": expires.Format(time.RFC3339)}})
	writeJSON(w, http.StatusOK, g)
}

// newDeviceID draws a UUID (version 4, RFC 9562), the form XEP-0388 asks
// of a user-agent id.
func newDeviceID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// clip bounds what a provider sent before it goes into a record.
func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return s
}
