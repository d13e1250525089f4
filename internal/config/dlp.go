package config

import (
	"parley/internal/dlp"
)

// DLP is data loss prevention (internal/dlp, docs/compliance-guide.md):
// [[dlp.policy]] tables and the [dlp.groups] they may name. Policies made
// through the admin API are kept in the store and added to these.
type DLP struct {
	Policies []dlp.Policy `toml:"policy"`
	// Groups are named lists of users' bare JIDs, for policies' groups.
	Groups map[string][]string `toml:"groups"`
}

func (d *DLP) validate() []error {
	if _, err := dlp.Compile(d.Policies, nil, d.Groups); err != nil {
		return []error{&KeyError{Key: "dlp.policy", Msg: err.Error()}}
	}
	return nil
}
