package adminapi

import (
	"errors"
	"net/http"
	"time"

	"parley/internal/control"
	"parley/internal/jid"
	"parley/internal/store"
)

// room is a persistent room as the API shows it: never its password.
type room struct {
	JID               string    `json:"jid"`
	Name              string    `json:"name"`
	Description       string    `json:"description"`
	Public            bool      `json:"public"`
	MembersOnly       bool      `json:"members_only"`
	Moderated         bool      `json:"moderated"`
	PasswordProtected bool      `json:"password_protected"`
	Owners            []string  `json:"owners"`
	Created           time.Time `json:"created,omitzero"`
}

func roomOf(r control.Room) room {
	owners := r.Owners
	if owners == nil {
		owners = []string{}
	}
	return room{JID: r.JID.String(), Name: r.Name, Description: r.Description, Public: r.Public,
		MembersOnly: r.MembersOnly, Moderated: r.Moderated, PasswordProtected: r.PasswordProtected,
		Owners: owners, Created: r.Created.UTC()}
}

// pathRoom reads {room} (name@service or a name) and names it as the
// change's target.
func (a *API) pathRoom(r *http.Request) (jid.JID, error) {
	j, err := a.o.Ops.RoomJID(r.PathValue("room"))
	if errors.Is(err, store.ErrNotFound) {
		return j, notFound("not a room of this server's service: " + r.PathValue("room"))
	}
	if err != nil {
		return j, badRequest("room: " + err.Error())
	}
	setTarget(r, j.String())
	return j, nil
}

func listRooms(a *API, w http.ResponseWriter, r *http.Request) error {
	limit, after, err := pageParams(r)
	if err != nil {
		return err
	}
	list, err := a.o.Ops.ListRooms(r.Context())
	if err != nil {
		return err
	}
	out := make([]room, 0, len(list))
	for _, rm := range list {
		out = append(out, roomOf(rm))
	}
	return writeJSON(w, http.StatusOK, paginate(out, func(r room) string { return r.JID }, after, limit))
}

func getRoom(a *API, w http.ResponseWriter, r *http.Request) error {
	j, err := a.pathRoom(r)
	if err != nil {
		return err
	}
	rm, err := a.o.Ops.Room(r.Context(), j)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, roomOf(rm))
}

func createRoom(a *API, w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Room        string `json:"room"`
		Owner       string `json:"owner"`
		Name        string `json:"name"`
		Description string `json:"description"`
		MembersOnly bool   `json:"members_only"`
		Public      *bool  `json:"public"` // default true
	}
	if err := readJSON(r, &body); err != nil {
		return err
	}
	j, err := a.o.Ops.RoomJID(body.Room)
	if err != nil {
		return badRequest("room: not name@" + a.o.Ops.RoomService().String() + " or a name: " + body.Room)
	}
	setTarget(r, j.String())
	owner, err := jid.Parse(body.Owner)
	if err != nil || owner.Local() == "" {
		return badRequest("owner: a bare JID, got " + body.Owner)
	}
	public := body.Public == nil || *body.Public
	if err := a.o.Ops.CreateRoom(r.Context(), j, owner, body.Name, body.Description, body.MembersOnly, public); err != nil {
		return err
	}
	rm, err := a.o.Ops.Room(r.Context(), j)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/rooms/"+j.String())
	return writeJSON(w, http.StatusCreated, roomOf(rm))
}

func destroyRoom(a *API, w http.ResponseWriter, r *http.Request) error {
	j, err := a.pathRoom(r)
	if err != nil {
		return err
	}
	if err := a.o.Ops.DestroyRoom(r.Context(), j, r.URL.Query().Get("reason")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type affiliation struct {
	JID         string `json:"jid"`
	Affiliation string `json:"affiliation"`
	Nick        string `json:"nick,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

func roomAffiliations(a *API, w http.ResponseWriter, r *http.Request) error {
	j, err := a.pathRoom(r)
	if err != nil {
		return err
	}
	affs, err := a.o.Ops.RoomAffiliations(r.Context(), j)
	if err != nil {
		return err
	}
	out := make([]affiliation, 0, len(affs))
	for _, x := range affs {
		out = append(out, affiliation{JID: x.JID, Affiliation: x.Affiliation, Nick: x.Nick, Reason: x.Reason})
	}
	return writeJSON(w, http.StatusOK, page[affiliation]{Items: out})
}
