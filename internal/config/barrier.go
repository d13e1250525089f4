package config

import (
	"fmt"

	"parley/internal/jid"
)

// Barrier is an information barrier (internal/im/barrier): between an
// account on side A and one on side B nothing passes through the server,
// and a room holding one side refuses the other. Written [[barrier]].
type Barrier struct {
	// Name identifies the barrier in errors users see and in the audit
	// log.
	Name string `toml:"name"`
	// A and B are the two sides: bare JIDs of local accounts.
	A []string `toml:"a"`
	B []string `toml:"b"`
}

func validateBarriers(bs []Barrier, domain string) []error {
	var errs []error
	names := make(map[string]bool)
	for i, b := range bs {
		key := fmt.Sprintf("barrier[%d]", i)
		bad := func(msg string) { errs = append(errs, &KeyError{Key: key, Msg: msg}) }
		switch {
		case b.Name == "":
			bad("name must not be empty")
		case names[b.Name]:
			bad(fmt.Sprintf("name %q is used twice", b.Name))
		}
		names[b.Name] = true
		if len(b.A) == 0 || len(b.B) == 0 {
			bad("a and b must both name accounts")
		}
		sideA := make(map[jid.JID]bool)
		for _, side := range []struct {
			name    string
			members []string
		}{{"a", b.A}, {"b", b.B}} {
			for _, s := range side.members {
				j, err := jid.Parse(s)
				if err != nil || !j.IsBare() || j.Local() == "" || j.Domain() != domain {
					bad(fmt.Sprintf("%s: %q is not the bare JID of an account of %s", side.name, s, domain))
					continue
				}
				if side.name == "a" {
					sideA[j] = true
				} else if sideA[j] {
					bad(fmt.Sprintf("%s is on both sides", j))
				}
			}
		}
	}
	return errs
}
