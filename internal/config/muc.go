package config

import (
	"fmt"

	"parley/internal/jid"
)

// MUC configures the group chat service (XEP-0045) on conference.<domain>.
type MUC struct {
	// Create says who may create a room by joining it (XEP-0045
	// §10.1.1): "local" (accounts of this server, the default), "anyone"
	// or "admins" (only the JIDs in Admins). A refused creation gets
	// <not-allowed/>.
	Create string `toml:"create"`
	// Admins are bare JIDs that may create rooms when Create is "admins".
	Admins []string `toml:"admins"`
}

// Values of MUC.Create.
const (
	MUCCreateLocal  = "local"
	MUCCreateAnyone = "anyone"
	MUCCreateAdmins = "admins"
)

func (m *MUC) validate() []error {
	var errs []error
	switch m.Create {
	case MUCCreateLocal, MUCCreateAnyone, MUCCreateAdmins:
	default:
		errs = append(errs, &KeyError{Key: "muc.create", Msg: fmt.Sprintf("%q is not local, anyone or admins", m.Create)})
	}
	for _, a := range m.Admins {
		if j, err := jid.Parse(a); err != nil || !j.IsBare() || j.Local() == "" {
			errs = append(errs, &KeyError{Key: "muc.admins", Msg: fmt.Sprintf("%q is not a bare JID (user@domain)", a)})
		}
	}
	if m.Create == MUCCreateAdmins && len(m.Admins) == 0 {
		errs = append(errs, &KeyError{Key: "muc.admins", Msg: `create = "admins" needs at least one admin`})
	}
	return errs
}
