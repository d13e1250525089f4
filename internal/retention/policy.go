package retention

import (
	"time"

	"parley/internal/config"
	"parley/internal/jid"
)

// PolicyOf resolves the configuration's periods: per owner, the longest
// period any policy naming it sets for a kind (forever beats any number of
// days); owners no policy sets a kind for follow the site-wide period
// (unset: forever). Accounts are named by username, rooms by bare JID.
// c must have been validated.
func PolicyOf(c config.Retention) Policy {
	p := Policy{Site: map[string]time.Duration{}, Owners: map[string]map[string]time.Duration{}}
	site := map[string]config.Period{KindArchive: c.Archive, KindOffline: c.Offline, KindUploads: c.Uploads}
	for k, per := range site {
		p.Site[k] = per.Keep()
		p.Owners[k] = map[string]time.Duration{}
	}
	for _, pol := range c.Policies {
		var users, rooms []string
		for _, u := range pol.Users {
			if j, err := jid.Parse(u); err == nil {
				users = append(users, j.Local())
			}
		}
		for _, r := range pol.Rooms {
			if j, err := jid.Parse(r); err == nil {
				rooms = append(rooms, j.Bare().String())
			}
		}
		for k, per := range map[string]config.Period{KindArchive: pol.Archive, KindOffline: pol.Offline, KindUploads: pol.Uploads} {
			if !per.Set {
				continue
			}
			owners := users
			if k == KindArchive {
				owners = append(append([]string{}, users...), rooms...)
			}
			for _, o := range owners {
				if have, ok := p.Owners[k][o]; !ok || longer(per.Keep(), have) {
					p.Owners[k][o] = per.Keep()
				}
			}
		}
	}
	return p
}

// longer reports whether period a keeps longer than b (0 is forever).
func longer(a, b time.Duration) bool {
	return b != 0 && (a == 0 || a > b)
}
