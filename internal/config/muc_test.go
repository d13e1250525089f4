package config

import (
	"strconv"
	"testing"
)

func TestValidateMUC(t *testing.T) {
	for i, tc := range []struct {
		muc  MUC
		want []string // substrings of the problems; none = valid
	}{
		0:  {MUC{Create: "local"}, nil},
		1:  {MUC{Create: "anyone"}, nil},
		2:  {MUC{Create: "admins", Admins: []string{"root@example.com"}}, nil},
		3:  {MUC{Create: "everyone"}, []string{`muc.create: "everyone" is not local, anyone or admins`}},
		4:  {MUC{Create: "admins"}, []string{`muc.admins: create = "admins" needs at least one admin`}},
		5:  {MUC{Create: "admins", Admins: []string{"example.com"}}, []string{`muc.admins: "example.com" is not a bare JID`}},
		6:  {MUC{Create: "local", Admins: []string{"a@example.com/res"}}, []string{`muc.admins: "a@example.com/res" is not a bare JID`}},
		7:  {MUC{Create: "local", MaxRoomsPerUser: -1}, []string{"muc.max_rooms_per_user: -1 is negative"}},
		8:  {MUC{Create: "local", MaxPersistentRoomsPerUser: -2}, []string{"muc.max_persistent_rooms_per_user: -2 is negative"}},
		9:  {MUC{Create: "local", MaxRoomsPerUser: 5, MaxPersistentRoomsPerUser: 1}, nil},
		10: {MUC{Create: "local", MaxVCardSize: -1}, []string{"muc.max_vcard_size: -1 is negative"}},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c := Default()
			c.MUC = tc.muc
			wantProblems(t, c.Validate(), tc.want)
		})
	}
	if Default().MUC.Create != MUCCreateLocal {
		t.Fatal("the default is not local")
	}
}
