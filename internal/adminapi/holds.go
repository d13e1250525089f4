package adminapi

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"parley/internal/audit"
	"parley/internal/config"
	"parley/internal/control"
	retentionjob "parley/internal/retention"
	"parley/internal/store"
)

// holdRoutes are legal holds, the originals they keep, and the retention
// policies (role compliance; docs/compliance-guide.md). Every hold change
// is audited (action hold).
var holdRoutes = []route{
	{"GET", "/api/v1/holds", compliance, "", listHolds},
	{"POST", "/api/v1/holds", compliance, audit.ActionHold, createHold},
	{"GET", "/api/v1/holds/{id}", compliance, "", getHold},
	{"POST", "/api/v1/holds/{id}/release", compliance, audit.ActionHold, releaseHold},
	{"GET", "/api/v1/held-messages", compliance, "", listHeldMessages},
	{"GET", "/api/v1/retention", compliance, "", getRetention},
}

var errNoHolds = errors.New("adminapi: this server keeps no legal holds")

// hold is a legal hold as the API shows it and takes (POST: name, reason,
// users, rooms, from, to).
type hold struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Reason     string    `json:"reason,omitempty"`
	Users      []string  `json:"users"` // bare JIDs
	Rooms      []string  `json:"rooms"`
	From       time.Time `json:"from,omitzero"`
	To         time.Time `json:"to,omitzero"`
	Active     bool      `json:"active"`
	CreatedBy  string    `json:"created_by"`
	Created    time.Time `json:"created"`
	Released   time.Time `json:"released,omitzero"`
	ReleasedBy string    `json:"released_by,omitempty"`
}

func (a *API) hold(h store.LegalHold) hold {
	v := hold{ID: h.ID, Name: h.Name, Reason: h.Reason, Users: []string{}, Rooms: append([]string{}, h.Rooms...),
		From: h.From.UTC(), To: h.To.UTC(), Active: h.Active(), CreatedBy: h.CreatedBy, Created: h.Created.UTC(),
		Released: h.Released.UTC(), ReleasedBy: h.ReleasedBy}
	for _, u := range h.Users {
		v.Users = append(v.Users, u+"@"+a.o.Ops.Domain.String())
	}
	return v
}

func listHolds(a *API, w http.ResponseWriter, r *http.Request) error {
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	list, err := a.o.Ops.ListHolds(r.Context())
	if err != nil {
		return holdErr(err)
	}
	out := make([]hold, 0, len(list))
	for _, h := range list {
		out = append(out, a.hold(h))
	}
	return writeJSON(w, http.StatusOK, paginateOrdered(out, func(h hold) string { return strconv.FormatInt(h.ID, 10) }, after, limit))
}

func createHold(a *API, w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name   string    `json:"name"`
		Reason string    `json:"reason"`
		Users  []string  `json:"users"`
		Rooms  []string  `json:"rooms"`
		From   time.Time `json:"from"`
		To     time.Time `json:"to"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	h, err := a.o.Ops.CreateHold(r.Context(), store.LegalHold{Name: in.Name, Reason: in.Reason, Users: in.Users, Rooms: in.Rooms,
		From: in.From, To: in.To}, actorOf(r))
	if err != nil {
		return holdErr(err)
	}
	setTarget(r, "hold:"+strconv.FormatInt(h.ID, 10))
	setDetails(r, control.HoldDetails(h, "create"))
	w.Header().Set("Location", "/api/v1/holds/"+strconv.FormatInt(h.ID, 10))
	return writeJSON(w, http.StatusCreated, a.hold(h))
}

// detailsKey holds the details a change adds to its audit record.
type detailsKey struct{}

func withDetails(r *http.Request) (*http.Request, map[string]string) {
	d := map[string]string{}
	return r.WithContext(context.WithValue(r.Context(), detailsKey{}, d)), d
}

// setDetails adds to the audit record of the request's change.
func setDetails(r *http.Request, d map[string]string) {
	if m, ok := r.Context().Value(detailsKey{}).(map[string]string); ok {
		maps.Copy(m, d)
	}
}

func holdID(r *http.Request) (int64, error) {
	id, err := control.ParseHoldID(r.PathValue("id"))
	if err != nil {
		return 0, badRequest(err.Error())
	}
	setTarget(r, "hold:"+strconv.FormatInt(id, 10))
	return id, nil
}

func getHold(a *API, w http.ResponseWriter, r *http.Request) error {
	id, err := holdID(r)
	if err != nil {
		return err
	}
	if a.o.Ops.Holds == nil {
		return errNoHolds
	}
	h, err := a.o.Ops.Holds.Hold(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a.hold(h))
}

func releaseHold(a *API, w http.ResponseWriter, r *http.Request) error {
	id, err := holdID(r)
	if err != nil {
		return err
	}
	h, err := a.o.Ops.ReleaseHold(r.Context(), id, actorOf(r))
	if errors.Is(err, store.ErrNotFound) {
		return notFound("no active hold " + strconv.FormatInt(id, 10))
	}
	if err != nil {
		return holdErr(err)
	}
	setDetails(r, control.HoldDetails(h, "release"))
	return writeJSON(w, http.StatusOK, a.hold(h))
}

// heldMessage is an original a hold kept, as compliance reads it.
type heldMessage struct {
	Archive string    `json:"archive"` // the owner's bare JID (account or room)
	ID      string    `json:"id"`      // its stanza-id in that archive
	With    string    `json:"with"`
	Time    time.Time `json:"time"`
	Stanza  string    `json:"stanza"` // the original <message/>
	Held    time.Time `json:"held"`
	Cause   string    `json:"cause"` // retracted or deleted
}

// listHeldMessages pages the originals kept under holds, in the order
// they were kept; ?archive= narrows it to one account or room, ?start=
// and ?end= to message times.
func listHeldMessages(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.o.Ops.Holds == nil {
		return errNoHolds
	}
	limit, after, err := seqPageParams(r)
	if err != nil {
		return err
	}
	q := store.HeldQuery{Limit: limit + 1, After: after}
	v := r.URL.Query()
	if s := v.Get("archive"); s != "" {
		if q.Owner, err = a.owner(s); err != nil {
			return err
		}
	}
	if q.Start, q.End, err = timeRange(v); err != nil {
		return err
	}
	list, err := a.o.Ops.Holds.HeldMessages(r.Context(), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, seqPage(list, limit, func(h store.HeldMessage) int64 { return h.Seq }, func(h store.HeldMessage) heldMessage {
		m := h.Message
		archive := m.Owner
		if !strings.Contains(archive, "@") {
			archive += "@" + a.o.Ops.Domain.String()
		}
		return heldMessage{Archive: archive, ID: m.ID, With: m.With, Time: m.Stamp.UTC(),
			Stanza: string(m.Stanza), Held: h.Held.UTC(), Cause: h.Cause}
	}))
}

// owner is the archive a JID names: an account's username, or a room's
// bare JID.
func (a *API) owner(s string) (string, error) {
	if u, err := a.username(s); err == nil {
		return u, nil
	}
	if strings.Contains(s, "@") && !strings.Contains(s, "/") {
		return s, nil
	}
	return "", badRequest("archive: not an account or a room: " + s)
}

// retention is [retention] as the API shows it: periods are "forever"
// or days ("90d").
type retention struct {
	Archive  string            `json:"archive"`
	Offline  string            `json:"offline"`
	Uploads  string            `json:"uploads"`
	Every    string            `json:"every"`
	Batch    int               `json:"batch"`
	Pause    string            `json:"pause"`
	Policies []retentionPolicy `json:"policies"`
}

type retentionPolicy struct {
	Name    string   `json:"name,omitempty"`
	Users   []string `json:"users"`
	Rooms   []string `json:"rooms"`
	Archive string   `json:"archive,omitempty"` // "" inherits
	Offline string   `json:"offline,omitempty"`
	Uploads string   `json:"uploads,omitempty"`
}

// getRetention shows the retention policies in force (they are set in
// parley.toml; the job's runs are in the audit log, action retention).
func getRetention(a *API, w http.ResponseWriter, r *http.Request) error {
	c := a.o.Retention
	site := func(p config.Period) string {
		if !p.Set {
			return config.Forever.String()
		}
		return p.String()
	}
	or := func(v, def string) string {
		if v == "0s" || v == "" {
			return def
		}
		return v
	}
	out := retention{Archive: site(c.Archive), Offline: site(c.Offline), Uploads: site(c.Uploads),
		Every: or(c.Every.String(), retentionjob.DefaultEvery.String()), Batch: c.Batch, Pause: or(c.Pause.String(), retentionjob.DefaultPause.String()),
		Policies: []retentionPolicy{}}
	if out.Batch == 0 {
		out.Batch = retentionjob.DefaultBatch
	}
	for _, p := range c.Policies {
		out.Policies = append(out.Policies, retentionPolicy{Name: p.Name, Users: append([]string{}, p.Users...),
			Rooms: append([]string{}, p.Rooms...), Archive: p.Archive.String(), Offline: p.Offline.String(), Uploads: p.Uploads.String()})
	}
	return writeJSON(w, http.StatusOK, out)
}

// holdErr maps the hold operations' errors.
func holdErr(err error) error {
	switch {
	case errors.Is(err, control.ErrBadHold):
		return badRequest(err.Error())
	case errors.Is(err, control.ErrNoHolds):
		return errNoHolds
	}
	return err
}
