package adminapi

import (
	"net/http"
	"time"

	"parley/internal/control"
	"parley/internal/jid"
)

// session is a live session as the API shows it.
type session struct {
	JID       string    `json:"jid"`
	Resource  string    `json:"resource"`
	Available bool      `json:"available"`
	Priority  int8      `json:"priority"`
	IP        string    `json:"ip,omitempty"`
	Transport string    `json:"transport,omitempty"`
	Since     time.Time `json:"since,omitzero"`
}

func sessionsOf(list []control.Session) []session {
	out := make([]session, 0, len(list))
	for _, s := range list {
		out = append(out, session{JID: s.JID.String(), Resource: s.JID.Resource(), Available: s.Available,
			Priority: s.Priority, IP: s.IP, Transport: s.Transport, Since: s.Since.UTC()})
	}
	return out
}

func listSessions(a *API, w http.ResponseWriter, r *http.Request) error {
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	all := sessionsOf(a.o.Ops.AllSessions())
	return writeJSON(w, http.StatusOK, paginate(all, func(s session) string { return s.JID }, after, limit))
}

// pathBare is the bare JID of the account the path names, which must
// exist (pathAccount).
func (a *API) pathBare(r *http.Request) (jid.JID, error) {
	u, err := a.pathAccount(r)
	if err != nil {
		return jid.JID{}, err
	}
	return jid.New(u, a.o.Ops.Domain.String(), "")
}

func userSessions(a *API, w http.ResponseWriter, r *http.Request) error {
	bare, err := a.pathBare(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page[session]{Items: sessionsOf(a.o.Ops.SessionsOf(bare))})
}

func endUserSessions(a *API, w http.ResponseWriter, r *http.Request) error {
	bare, err := a.pathBare(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ended{a.o.Ops.EndAllSessions(bare)})
}

func endSession(a *API, w http.ResponseWriter, r *http.Request) error {
	u, err := a.pathUser(r)
	if err != nil {
		return err
	}
	full, err := jid.New(u, a.o.Ops.Domain.String(), r.PathValue("resource"))
	if err != nil {
		return badRequest("resource: " + err.Error())
	}
	setTarget(r, full.String())
	if err := a.o.Ops.EndSession(full); err != nil {
		return notFound("no session " + full.String())
	}
	return writeJSON(w, http.StatusOK, ended{1})
}
