package adminapi

import (
	"errors"
	"net"
	"net/http"
	"net/netip"

	"parley/internal/control"
	"parley/internal/httpapi"
	"parley/internal/store"
)

// writeProblem answers with an RFC 9457 problem (httpapi.Problem).
var writeProblem = httpapi.Problem

// httpError is an error with the status and title it is answered with.
type httpError struct {
	status int
	title  string
	detail string
}

func (e *httpError) Error() string { return e.title + ": " + e.detail }

func badRequest(detail string) error {
	return &httpError{status: http.StatusBadRequest, title: "bad request", detail: detail}
}

func notFound(detail string) error {
	return &httpError{status: http.StatusNotFound, title: "not found", detail: detail}
}

// fail answers err: an httpError as it says, the store's and control's
// errors with their status, anything else 500 (logged, not shown).
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		writeProblem(w, r, he.status, he.title, he.detail)
	case errors.As(err, &mbe):
		writeProblem(w, r, http.StatusRequestEntityTooLarge, "request too large", "the body exceeds the limit of the admin API")
	case errors.Is(err, store.ErrNotFound):
		writeProblem(w, r, http.StatusNotFound, "not found", "")
	case errors.Is(err, store.ErrExists):
		writeProblem(w, r, http.StatusConflict, "exists already", "")
	case errors.Is(err, control.ErrBadRole):
		writeProblem(w, r, http.StatusBadRequest, "bad request", err.Error())
	case errors.Is(err, control.ErrNoRooms), errors.Is(err, control.ErrNoTokens), errors.Is(err, errNoAuditLog), errors.Is(err, errNoReports),
		errors.Is(err, errNoEdiscovery), errors.Is(err, control.ErrNoEdiscovery), errors.Is(err, errNoUserData),
		errors.Is(err, errNoSupervision),
		errors.Is(err, errNoHolds):
		writeProblem(w, r, http.StatusServiceUnavailable, "not available", err.Error())
	default:
		a.o.Log.Error("adminapi: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeProblem(w, r, http.StatusInternalServerError, "internal error", "")
	}
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func fromLoopback(r *http.Request) bool {
	ip, err := netip.ParseAddr(remoteIP(r))
	return err == nil && ip.Unmap().IsLoopback()
}
