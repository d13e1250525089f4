package adminapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/control"
	"parley/internal/defaults"
	"parley/internal/store"
)

// Defaults of Options' zero values.
const (
	DefaultMaxBody  = 64 << 10 // bytes of a request body
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Auditor is the audit log (audit.Log) as the API uses it.
type Auditor interface {
	Emit(r audit.Record)
}

// ServerInfo is what GET /api/v1/server tells.
type ServerInfo struct {
	Version  string    `json:"version"`
	Go       string    `json:"go"`
	Started  time.Time `json:"started"`
	Uptime   int64     `json:"uptime_seconds"`
	Users    int       `json:"users"`
	Sessions int       `json:"sessions"`
	Rooms    int       `json:"rooms"`
	// CertificateExpires is when the c2s certificate's validity ends
	// (zero when there is none).
	CertificateExpires time.Time `json:"certificate_expires,omitzero"`
	CertificateDays    int       `json:"certificate_days_left,omitempty"`
}

// Options configure the API.
type Options struct {
	// Ops are the operator operations every route calls (the CLI's).
	Ops *control.Ops
	// Tokens authenticates requests (usually Ops.Tokens).
	Tokens store.APITokens
	// Audit records refusals and changes; AuditLog is read by /audit
	// (nil: those routes answer 503).
	Audit    Auditor
	AuditLog store.Audit
	// Reports are the abuse reports users filed (nil: /abuse-reports
	// answers 503).
	Reports store.AbuseReports
	// Data and Blobs are read by an account's own export (/me/export);
	// nil Data: the /me routes answer 503.
	Data  UserData
	Blobs Blobs
	// CheckPassword, if set, verifies the passwords of accounts kept
	// elsewhere (a directory) for POST /me/token, as it does for SASL
	// PLAIN (sasl.Config.CheckPassword: nil accepts, sasl.ErrUnknownUser
	// leaves it to the stored keys, a *sasl.Failure refuses, any other
	// error is the directory being unavailable).
	CheckPassword func(ctx context.Context, username, password string) error
	// Supervision is the incident review queue and DLP the DLP policies
	// (nil: their routes answer 503).
	Supervision Supervision
	DLP         DLPPolicies
	// Retention is [retention], shown by /retention (holds.go).
	Retention config.Retention
	// Forget, if set, is called after an account was deleted (modules
	// drop what they cache for it).
	Forget func(username string)
	// Devices are the accounts' FAST devices (devices.go; nil: those
	// routes answer 503).
	Devices Devices
	// SSO is single sign-on through an OpenID Connect provider (sso.go).
	SSO SSO
	// Webhooks are the outgoing webhooks' dead letters (webhooks.go;
	// nil: none configured, an empty list).
	Webhooks Webhooks
	// Info reports the server's state for /server.
	Info func(ctx context.Context) (ServerInfo, error)
	// MaxBody bounds a request body; default DefaultMaxBody.
	MaxBody int64
	// LoopbackOnly refuses requests whose connection does not come from
	// a loopback address: set on the plain HTTP listener, where bearer
	// tokens would otherwise cross the network in clear.
	LoopbackOnly bool
	Now          func() time.Time
	Log          *slog.Logger // nil: slog.Default()
}

// API serves /api/v1.
type API struct {
	o     Options
	mux   *http.ServeMux
	limit *authLimit // failed authentications by source address
}

// route is one operation of the API: its pattern (net/http's), the roles
// besides admin that may call it, and for a change the audit action.
type route struct {
	method, path string
	roles        []string
	action       string // audit action of a change; "" for reads (only refusals are recorded)
	h            func(a *API, w http.ResponseWriter, r *http.Request) error
}

// allows reports whether a token of role may call the route: admin calls
// every operator route, user tokens only the routes that name them
// (/me), and operators none of those.
func (rt route) allows(role string) bool {
	if slices.Contains(rt.roles, control.RoleUser) {
		return role == control.RoleUser
	}
	return role == control.RoleAdmin || slices.Contains(rt.roles, role)
}

// New builds the API.
func New(o Options) *API {
	defaults.Positive(&o.MaxBody, DefaultMaxBody)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	a := &API{o: o, mux: http.NewServeMux(), limit: newAuthLimit(o.Now)}
	a.mux.HandleFunc("GET /api/v1/openapi.json", serveOpenAPI)
	a.mux.HandleFunc("POST /api/v1/me/token", a.issueUserToken)
	paths := map[string]bool{}
	for _, rt := range allRoutes() {
		a.mux.Handle(rt.method+" "+rt.path, a.guard(rt))
		paths[rt.path] = true
	}
	paths["/api/v1/me/token"] = true
	a.handleSSO(paths)
	// A pattern without a method is less specific than those with one:
	// it catches the other methods, answered as a problem rather than
	// the mux's text/plain 405.
	for p := range paths {
		a.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			writeProblem(w, r, http.StatusMethodNotAllowed, "method not allowed", r.Method+" is not defined on this route")
		})
	}
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "no such route", "see /api/v1/openapi.json")
	})
	return a
}

// ServeHTTP serves the API; mount it at /api/v1/.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if a.o.LoopbackOnly && !fromLoopback(r) {
		writeProblem(w, r, http.StatusForbidden, "use HTTPS", "the admin API answers plain HTTP only on loopback")
		return
	}
	a.mux.ServeHTTP(w, r)
}

// guard authenticates the bearer token (RFC 6750 §2.1), checks the role,
// runs the route, and records refusals and changes in the audit log.
func (a *API) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := newRequestID()
		w.Header().Set("X-Request-Id", reqID)
		rec := audit.Record{Action: audit.ActionAPICall, IP: remoteIP(r), RequestID: reqID,
			Details: map[string]string{"method": r.Method, "path": r.URL.Path}}

		if a.tooManyFailures(w, r) {
			return
		}
		token, given := bearer(r)
		t, err := control.Authenticate(r.Context(), a.o.Tokens, token, a.o.Now())
		if !given || err != nil {
			// RFC 6750 §3: a challenge; §3.1: invalid_token when one was
			// given but is unknown, revoked or expired.
			challenge := `Bearer realm="parley"`
			detail := "this route needs an Authorization: Bearer token"
			if given {
				challenge += `, error="invalid_token"`
				detail = "the token is unknown, revoked or expired"
			}
			if err != nil && given && !errors.Is(err, control.ErrBadToken) && !errors.Is(err, control.ErrTokenExpired) {
				a.o.Log.Error("adminapi: token lookup", "err", err)
				writeProblem(w, r, http.StatusInternalServerError, "internal error", "")
				return
			}
			w.Header().Set("WWW-Authenticate", challenge)
			writeProblem(w, r, http.StatusUnauthorized, "unauthorized", detail)
			rec.Outcome = audit.OutcomeDenied
			rec.Details["status"] = "401"
			if d := a.limit.failed(rec.IP); d > 0 {
				rec.Details["closed_seconds"] = strconv.Itoa(retryAfter(d))
			}
			a.record(rec)
			return
		}
		rec.Actor = "admin-token:" + t.ID
		if t.Role == control.RoleUser {
			// The account's owner acts, with a token they obtained.
			rec.Actor = t.Username + "@" + a.o.Ops.Domain.String()
			rec.Details["token"] = t.ID
		}
		if t.Name != "" {
			rec.Details["token_name"] = t.Name
		}
		rec.Details["role"] = t.Role
		if !rt.allows(t.Role) {
			writeProblem(w, r, http.StatusForbidden, "forbidden", "role "+t.Role+" may not call this route")
			rec.Outcome = audit.OutcomeDenied
			rec.Details["status"] = "403"
			a.record(rec)
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, a.o.MaxBody)
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		r, target := withTarget(withActor(r, rec.Actor))
		r = r.WithContext(context.WithValue(r.Context(), tokenKey{}, t))
		r, details := withDetails(r)
		err = rt.h(a, sw, r)
		cut := errors.Is(err, errCutShort)
		if err != nil && !cut {
			a.fail(sw, r, err)
		}
		if rt.action != "" {
			rec.Action = rt.action
			rec.Target = *target
			maps.Copy(rec.Details, details)
			rec.Details["status"] = strconv.Itoa(sw.status)
			rec.Outcome = audit.OutcomeSuccess
			if sw.status >= 400 || cut {
				rec.Outcome = audit.OutcomeFailure
			}
			if cut {
				rec.Details["cut_short"] = "true"
			}
			a.record(rec)
		}
		if cut {
			// net/http closes the connection without finishing the
			// response, so the client sees it incomplete.
			panic(http.ErrAbortHandler)
		}
	})
}

// tooManyFailures answers 429 (RFC 6585 §4) with Retry-After while the
// API is closed to the request's address after failed authentications
// (limit.go), and reports whether it did.
func (a *API) tooManyFailures(w http.ResponseWriter, r *http.Request) bool {
	d := a.limit.wait(remoteIP(r))
	if d <= 0 {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter(d)))
	writeProblem(w, r, http.StatusTooManyRequests, "too many failed authentications",
		"this address sent too many bad credentials; retry after the time in Retry-After")
	return true
}

// retryAfter is d in whole seconds, rounded up (Retry-After, RFC 9110
// §10.2.3).
func retryAfter(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

func (a *API) record(r audit.Record) {
	if a.o.Audit != nil {
		a.o.Audit.Emit(r)
	}
}

// bearer returns the token of "Authorization: Bearer TOKEN" and whether
// the header was there at all.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	return strings.TrimSpace(token), true
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter remembers the status a handler wrote, for the audit log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
