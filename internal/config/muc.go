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
	// Admins are bare JIDs that may create rooms when Create is "admins";
	// the room limits below do not apply to them.
	Admins []string `toml:"admins"`
	// MaxRoomsPerUser is how many rooms one user may have created that
	// exist at once (0: the default, 100); a creation beyond it gets
	// not-allowed. MaxPersistentRoomsPerUser is how many of them may be
	// persistent (0: the default, 20); making one more persistent gets
	// policy-violation.
	MaxRoomsPerUser           int `toml:"max_rooms_per_user"`
	MaxPersistentRoomsPerUser int `toml:"max_persistent_rooms_per_user"`
	// MaxVCardSize bounds a room's vCard, which carries its avatar
	// (XEP-0486), in bytes (0: the default, 64 KiB); a larger one gets
	// policy-violation.
	MaxVCardSize int `toml:"max_vcard_size"`
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
	notNegative(&errs, "muc.max_rooms_per_user", m.MaxRoomsPerUser)
	notNegative(&errs, "muc.max_persistent_rooms_per_user", m.MaxPersistentRoomsPerUser)
	notNegative(&errs, "muc.max_vcard_size", m.MaxVCardSize)
	if m.Create == MUCCreateAdmins && len(m.Admins) == 0 {
		errs = append(errs, &KeyError{Key: "muc.admins", Msg: `create = "admins" needs at least one admin`})
	}
	return errs
}
