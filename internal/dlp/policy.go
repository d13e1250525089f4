package dlp

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"parley/internal/jid"
)

// Actions, from the mildest; when several policies match one text the
// strongest action is taken.
const (
	// Flag delivers the message and records an incident for review.
	Flag = "flag"
	// Redact replaces every match before delivery and archiving, tells
	// the sender, and records an incident.
	Redact = "redact"
	// Block refuses the stanza with policy-violation; it is neither
	// delivered nor archived, and the incident keeps it for review.
	Block = "block"
)

// DefaultReplacement replaces a redacted match.
const DefaultReplacement = "[redacted]"

// Limits on a policy, so that one policy cannot make every message slow.
const (
	MaxKeywords   = 1000
	MaxKeywordLen = 200
	MaxRegexps    = 20
	MaxRegexpLen  = 1000
	MaxScope      = 10000 // users, group members and rooms of one policy
	MaxPolicies   = 200
)

// Policy is one DLP rule, as written in [[dlp.policy]] and in the admin
// API's JSON. At least one detector (builtins, keywords, regexps) is
// required. With no users, groups and rooms it applies to everyone.
type Policy struct {
	// Name identifies the policy in incidents and the API (letters,
	// digits, '-', '_', '.').
	Name        string `toml:"name" json:"name"`
	Description string `toml:"description" json:"description,omitempty"`
	// Action is flag, redact or block.
	Action string `toml:"action" json:"action"`
	// Builtins are built-in detectors by name (see Builtins).
	Builtins []string `toml:"builtins" json:"builtins,omitempty"`
	// Keywords are words or phrases, matched case-insensitively (ASCII)
	// as whole words.
	Keywords []string `toml:"keywords" json:"keywords,omitempty"`
	// Regexps are regular expressions (Go RE2 syntax: linear time).
	Regexps []string `toml:"regexps" json:"regexps,omitempty"`
	// Users (bare JIDs) and Groups (names of [dlp.groups] lists) whose
	// stanzas the policy applies to; Rooms (bare room JIDs) whose
	// messages and subjects it applies to, whoever sends them.
	Users  []string `toml:"users" json:"users,omitempty"`
	Groups []string `toml:"groups" json:"groups,omitempty"`
	Rooms  []string `toml:"rooms" json:"rooms,omitempty"`
	// Replacement replaces each match when redacting (default
	// "[redacted]").
	Replacement string `toml:"replacement" json:"replacement,omitempty"`
	// Notice is the text the sender reads on a block or a redaction
	// (default: one naming the policy and what was found).
	Notice string `toml:"notice" json:"notice,omitempty"`
}

// Origin of a policy: the configuration file or the admin API.
const (
	FromConfig = "config"
	FromAPI    = "api"
)

// compiled is a policy ready for the engine.
type compiled struct {
	Policy
	origin string
	users  map[jid.JID]bool
	rooms  map[jid.JID]bool
	all    bool // no scope given: everyone
	rank   int  // of Action: 0 flag, 1 redact, 2 block
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Check validates a policy against groups (name → members) and returns
// its problems, each naming the field.
func (p *Policy) Check(groups map[string][]string) error {
	_, err := compile(*p, "", groups)
	return err
}

func compile(p Policy, origin string, groups map[string][]string) (*compiled, error) {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, a...)))
	}
	if !validName.MatchString(p.Name) {
		bad("name", "%q is not a policy name (letters, digits, '.', '_', '-'; at most 64)", p.Name)
	}
	c := &compiled{Policy: p, origin: origin, users: map[jid.JID]bool{}, rooms: map[jid.JID]bool{}}
	switch p.Action {
	case Flag:
	case Redact:
		c.rank = 1
	case Block:
		c.rank = 2
	default:
		bad("action", "%q is not flag, redact or block", p.Action)
	}
	if len(p.Builtins)+len(p.Keywords)+len(p.Regexps) == 0 {
		bad("builtins", "the policy detects nothing: give builtins, keywords or regexps")
	}
	for _, b := range p.Builtins {
		if !slices.Contains(Builtins, b) {
			bad("builtins", "%q is not a built-in detector (%s)", b, strings.Join(Builtins, ", "))
		}
	}
	if len(p.Keywords) > MaxKeywords {
		bad("keywords", "%d keywords, at most %d", len(p.Keywords), MaxKeywords)
	}
	for _, k := range p.Keywords {
		if strings.TrimSpace(k) == "" || len(k) > MaxKeywordLen {
			bad("keywords", "%q: a keyword is 1 to %d bytes, not only spaces", k, MaxKeywordLen)
		}
	}
	if len(p.Regexps) > MaxRegexps {
		bad("regexps", "%d regexps, at most %d", len(p.Regexps), MaxRegexps)
	}
	for _, r := range p.Regexps {
		if len(r) > MaxRegexpLen {
			bad("regexps", "a regexp is at most %d bytes", MaxRegexpLen)
			continue
		}
		re, err := regexp.Compile(r)
		switch {
		case err != nil:
			bad("regexps", "%v", err)
		case re.MatchString(""):
			bad("regexps", "%q matches the empty text", r)
		}
	}
	n := 0
	addUser := func(field, s string) {
		j, err := jid.Parse(s)
		if err != nil || j.Local() == "" {
			bad(field, "%q is not a user's bare JID", s)
			return
		}
		c.users[j.Bare()] = true
		n++
	}
	for _, u := range p.Users {
		addUser("users", u)
	}
	for _, g := range p.Groups {
		members, ok := groups[g]
		if !ok {
			bad("groups", "%q is not a group of [dlp.groups]", g)
		}
		for _, u := range members {
			addUser("groups."+g, u)
		}
	}
	for _, r := range p.Rooms {
		j, err := jid.Parse(r)
		if err != nil || j.Local() == "" {
			bad("rooms", "%q is not a room's bare JID", r)
			continue
		}
		c.rooms[j.Bare()] = true
		n++
	}
	if n > MaxScope {
		bad("users", "%d users and rooms, at most %d", n, MaxScope)
	}
	if len(p.Replacement) > 100 {
		bad("replacement", "at most 100 bytes")
	}
	if len(p.Notice) > 1000 {
		bad("notice", "at most 1000 bytes")
	}
	c.all = len(p.Users)+len(p.Groups)+len(p.Rooms) == 0
	if c.Replacement == "" {
		c.Replacement = DefaultReplacement
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("dlp policy %q: %w", p.Name, errors.Join(errs...))
	}
	return c, nil
}

// applies reports whether the policy covers a stanza from sender to to
// (bare JIDs).
func (c *compiled) applies(sender, to jid.JID) bool {
	return c.all || c.users[sender] || c.rooms[to]
}
