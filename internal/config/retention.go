package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"parley/internal/jid"
)

// Retention is how long messages and files are kept ([retention];
// internal/retention enforces it, docs/compliance-guide.md says what it
// promises). Each period is "forever" or a number of days ("90d"); an
// unset site-wide period means forever. Legal holds override every
// period.
type Retention struct {
	// Site-wide periods: archived messages (user and room archives),
	// offline messages, uploaded files.
	Archive Period `toml:"archive"`
	Offline Period `toml:"offline"`
	Uploads Period `toml:"uploads"`
	// Every is how often the job runs (default 1h).
	Every Duration `toml:"every"`
	// Batch is how many rows one transaction deletes (default 1000), and
	// Pause the wait between two batches (default 100ms), so a large
	// backlog never holds the store for long.
	Batch int      `toml:"batch"`
	Pause Duration `toml:"pause"`
	// Policies override the site-wide periods for the accounts and rooms
	// they name (a group is the list of its accounts).
	Policies []RetentionPolicy `toml:"policy"`
}

// RetentionPolicy sets periods for some accounts and rooms. Where several
// policies name the same account or room, the longest period of each kind
// wins; a kind a policy leaves unset falls back to the next policy or the
// site-wide period.
type RetentionPolicy struct {
	Name    string   `toml:"name"`
	Users   []string `toml:"users"` // bare JIDs of local accounts
	Rooms   []string `toml:"rooms"` // bare JIDs of rooms
	Archive Period   `toml:"archive"`
	Offline Period   `toml:"offline"`
	Uploads Period   `toml:"uploads"`
}

// Period is how long something is kept: Days, or forever when Days is 0.
// Set tells an unset period (which inherits) from one set to forever.
type Period struct {
	Days int
	Set  bool
}

// Forever is the period "forever".
var Forever = Period{Set: true}

// Keep is the period as a duration; 0 means forever.
func (p Period) Keep() time.Duration { return time.Duration(p.Days) * 24 * time.Hour }

// UnmarshalText reads "forever" or "Nd" (N ≥ 1).
func (p *Period) UnmarshalText(b []byte) error {
	s := string(b)
	if s == "forever" {
		*p = Forever
		return nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
	if err != nil || !strings.HasSuffix(s, "d") || n < 1 {
		return fmt.Errorf("%q is not a period such as \"90d\" or \"forever\"", s)
	}
	*p = Period{Days: n, Set: true}
	return nil
}

// MarshalText writes the period as UnmarshalText reads it ("" unset).
func (p Period) MarshalText() ([]byte, error) {
	switch {
	case !p.Set:
		return nil, nil
	case p.Days == 0:
		return []byte("forever"), nil
	}
	return []byte(strconv.Itoa(p.Days) + "d"), nil
}

// String is MarshalText's text.
func (p Period) String() string {
	b, _ := p.MarshalText()
	return string(b)
}

func (r *Retention) validate(domain string) []error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, &KeyError{Key: "retention." + key, Msg: fmt.Sprintf(format, a...)})
	}
	notNegative(&errs, "retention.every", r.Every.Duration)
	notNegative(&errs, "retention.pause", r.Pause.Duration)
	if r.Batch < 0 || r.Batch > 10000 {
		bad("batch", "%d is outside 1..10000 (0 means the default)", r.Batch)
	}
	for i, p := range r.Policies {
		key := fmt.Sprintf("policy[%d]", i)
		if len(p.Users)+len(p.Rooms) == 0 {
			bad(key, "names no users and no rooms")
		}
		if !p.Archive.Set && !p.Offline.Set && !p.Uploads.Set {
			bad(key, "sets no period (archive, offline or uploads)")
		}
		for _, u := range p.Users {
			j, err := jid.Parse(u)
			if err != nil || j.Local() == "" || j.Resource() != "" || j.Domain() != domain {
				bad(key+".users", "%q is not the bare JID of an account on %s", u, domain)
			}
		}
		for _, room := range p.Rooms {
			j, err := jid.Parse(room)
			if err != nil || j.Local() == "" || j.Resource() != "" {
				bad(key+".rooms", "%q is not a room's bare JID", room)
			}
		}
	}
	return errs
}
