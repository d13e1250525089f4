package adminapi

import (
	"context"
	"net/http"
	"time"

	"parley/internal/audit"
	"parley/internal/store"
)

// deviceRoutes list an account's devices, the client installations that
// hold XEP-0484 FAST tokens (one per SASL2 user-agent id), and revoke one
// (a lost phone): its tokens are deleted and its sessions end.
var deviceRoutes = []route{
	{"GET", "/api/v1/users/{user}/devices", helpdesk, "", listDevices},
	{"DELETE", "/api/v1/users/{user}/devices/{id}", helpdesk, audit.ActionDeviceRevoked, revokeDevice},
}

// Devices is what the device routes act on: the store's devices and the
// running server's sessions (c2s.Server has RevokeDevice and
// DeviceSessions).
type Devices interface {
	FastDevices(ctx context.Context, username string) ([]store.FastDevice, error)
	RevokeDevice(ctx context.Context, username, userAgent string) (int, error)
	DeviceSessions(username, userAgent string) []string
}

var errNoDevices = &httpError{status: http.StatusServiceUnavailable, title: "not available", detail: "this server keeps no devices"}

// device is a FAST device as the API shows it; its tokens never leave
// the server (only what verifies them is kept).
type device struct {
	ID        string    `json:"id"` // the SASL2 user-agent id
	Software  string    `json:"software,omitempty"`
	Name      string    `json:"name,omitempty"`
	Mechanism string    `json:"mechanism"`
	Created   time.Time `json:"created"`
	LastUsed  time.Time `json:"last_used,omitzero"`
	// Expires is when the device's newest token expires.
	Expires  time.Time `json:"expires,omitzero"`
	Sessions []string  `json:"sessions"` // full JIDs online from it
}

func listDevices(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.o.Devices == nil {
		return errNoDevices
	}
	u, err := a.pathAccount(r)
	if err != nil {
		return err
	}
	list, err := a.o.Devices.FastDevices(r.Context(), u)
	if err != nil {
		return err
	}
	out := page[device]{Items: make([]device, 0, len(list))}
	for _, d := range list {
		exp := d.Current.Expires
		if !d.Next.Empty() && (d.Current.Empty() || d.Next.Expires.After(exp)) {
			exp = d.Next.Expires
		}
		sessions := a.o.Devices.DeviceSessions(u, d.UserAgent)
		if sessions == nil {
			sessions = []string{}
		}
		out.Items = append(out.Items, device{ID: d.UserAgent, Software: d.Software, Name: d.Name, Mechanism: d.Mechanism,
			Created: d.Created.UTC(), LastUsed: d.Used.UTC(), Expires: exp.UTC(), Sessions: sessions})
	}
	return writeJSON(w, http.StatusOK, out)
}

func revokeDevice(a *API, w http.ResponseWriter, r *http.Request) error {
	if a.o.Devices == nil {
		return errNoDevices
	}
	u, err := a.pathAccount(r)
	if err != nil {
		return err
	}
	n, err := a.o.Devices.RevokeDevice(r.Context(), u, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ended{n})
}
