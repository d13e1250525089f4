package config

import (
	"strconv"
	"strings"
	"testing"
)

func TestValidateMUC(t *testing.T) {
	for i, tc := range []struct {
		muc  MUC
		want string // a substring of the one problem; "" = valid
	}{
		0:  {MUC{Create: "local"}, ""},
		1:  {MUC{Create: "anyone"}, ""},
		2:  {MUC{Create: "admins", Admins: []string{"root@example.com"}}, ""},
		3:  {MUC{Create: "everyone"}, `muc.create: "everyone" is not local, anyone or admins`},
		4:  {MUC{Create: "admins"}, `muc.admins: create = "admins" needs at least one admin`},
		5:  {MUC{Create: "admins", Admins: []string{"example.com"}}, `muc.admins: "example.com" is not a bare JID`},
		6:  {MUC{Create: "local", Admins: []string{"a@example.com/res"}}, `muc.admins: "a@example.com/res" is not a bare JID`},
		7:  {MUC{Create: "local", MaxRoomsPerUser: -1}, "muc.max_rooms_per_user: -1 is negative"},
		8:  {MUC{Create: "local", MaxPersistentRoomsPerUser: -2}, "muc.max_persistent_rooms_per_user: -2 is negative"},
		9:  {MUC{Create: "local", MaxRoomsPerUser: 5, MaxPersistentRoomsPerUser: 1}, ""},
		10: {MUC{Create: "local", MaxVCardSize: -1}, "muc.max_vcard_size: -1 is negative"},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c := Default()
			c.MUC = tc.muc
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if Default().MUC.Create != MUCCreateLocal {
		t.Fatal("the default is not local")
	}
}
