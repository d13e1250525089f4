package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"parley/internal/defaults"
)

// Auth holds the external account sources; see LDAP and OIDC.
type Auth struct {
	LDAP LDAP `toml:"ldap"`
	OIDC OIDC `toml:"oidc"`
}

// LDAP is a directory (OpenLDAP, Active Directory) whose users log in with
// their directory password (docs/admin.md "Directory",
// docs/design/18_directory.md). It is on when URL is set.
type LDAP struct {
	// URL is ldaps://host[:port] or ldap://host[:port]; ldap:// needs
	// StartTLS unless the host is a loopback address.
	URL      string `toml:"url"`
	StartTLS bool   `toml:"start_tls"`
	// CA is a PEM bundle the directory's certificate must chain to;
	// empty is the system roots.
	CA string `toml:"ca"`
	// BindDN and BindPassword (or BindPasswordFile, whose content minus
	// a trailing newline is the password) are the service account that
	// searches users and groups. Both empty is an anonymous search.
	BindDN           string `toml:"bind_dn"`
	BindPassword     string `toml:"bind_password"`
	BindPasswordFile string `toml:"bind_password_file"`
	// UserBase is searched (whole subtree) with UserFilter ANDed with
	// LocalpartAttribute=<username>; LocalpartAttribute's value is the
	// XMPP localpart (uid, sAMAccountName).
	UserBase           string `toml:"user_base"`
	UserFilter         string `toml:"user_filter"`
	LocalpartAttribute string `toml:"localpart_attribute"`
	// GroupBase, when set, is searched with GroupFilter; each group named
	// by GroupNameAttribute becomes a shared roster group of the members
	// listed in GroupMemberAttribute (DNs as in member/uniqueMember, or
	// localparts as in memberUid).
	GroupBase            string `toml:"group_base"`
	GroupFilter          string `toml:"group_filter"`
	GroupMemberAttribute string `toml:"group_member_attribute"`
	GroupNameAttribute   string `toml:"group_name_attribute"`
	// MaxGroupSize: a larger group is not shared (each member would get
	// every other as a contact); default 500.
	MaxGroupSize int `toml:"max_group_size"`
	// PoolSize is how many connections are kept open (default 4).
	PoolSize int `toml:"pool_size"`
	// Timeout bounds connecting and each request (default 5s).
	Timeout Duration `toml:"timeout"`
	// SyncInterval is how often users and groups are read again: shared
	// groups follow, and users gone from the directory (or no longer
	// matching UserFilter) lose their sessions (default 1m).
	SyncInterval Duration `toml:"sync_interval"`
	// VCard names the attributes served as a directory user's vCard.
	VCard LDAPVCard `toml:"vcard"`
}

// LDAPVCard maps vCard fields (XEP-0054) to directory attributes; an
// empty field takes the default shown.
type LDAPVCard struct {
	FN         string `toml:"fn"`         // cn
	Title      string `toml:"title"`      // title
	Org        string `toml:"org"`        // o
	Department string `toml:"department"` // ou
	Phone      string `toml:"phone"`      // telephoneNumber
	Email      string `toml:"email"`      // mail
	Photo      string `toml:"photo"`      // jpegPhoto
}

// On says whether a directory is configured.
func (l LDAP) On() bool { return l.URL != "" }

// WithDefaults returns l with every unset field at its default.
func (l LDAP) WithDefaults() LDAP {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&l.UserFilter, "(objectClass=inetOrgPerson)")
	def(&l.LocalpartAttribute, "uid")
	def(&l.GroupFilter, "(objectClass=groupOfNames)")
	def(&l.GroupMemberAttribute, "member")
	def(&l.GroupNameAttribute, "cn")
	def(&l.VCard.FN, "cn")
	def(&l.VCard.Title, "title")
	def(&l.VCard.Org, "o")
	def(&l.VCard.Department, "ou")
	def(&l.VCard.Phone, "telephoneNumber")
	def(&l.VCard.Email, "mail")
	def(&l.VCard.Photo, "jpegPhoto")
	defaults.Positive(&l.MaxGroupSize, 500)
	defaults.Positive(&l.PoolSize, 4)
	defaults.Positive(&l.Timeout.Duration, 5*time.Second)
	defaults.Positive(&l.SyncInterval.Duration, time.Minute)
	return l
}

// Password returns the service account's password, from the file if one
// is named.
func (l LDAP) Password() (string, error) {
	if l.BindPasswordFile == "" {
		return l.BindPassword, nil
	}
	b, err := os.ReadFile(l.BindPasswordFile)
	if err != nil {
		return "", fmt.Errorf("auth.ldap.bind_password_file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// attrName is an LDAP attribute description (RFC 4512 §2.5): a
// descriptor or an OID, with options.
var attrName = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)(;[A-Za-z0-9-]+)*$`)

func (l LDAP) validate() []error {
	if !l.On() {
		return nil
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: "auth.ldap." + key, Msg: fmt.Sprintf(format, args...)})
	}
	l = l.WithDefaults()
	u, err := url.Parse(l.URL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "ldap" && u.Scheme != "ldaps") || (u.Path != "" && u.Path != "/"):
		bad("url", "%q is not ldaps://host[:port] or ldap://host[:port]", l.URL)
	case u.Scheme == "ldaps" && l.StartTLS:
		bad("start_tls", "is for ldap:// URLs; ldaps:// is TLS already")
	case u.Scheme == "ldap" && !l.StartTLS && !IsLoopback(u.Hostname()):
		bad("url", "%q sends passwords in clear: use ldaps:// or start_tls = true (plain ldap:// only on loopback)", l.URL)
	}
	if l.CA != "" {
		if _, err := os.Stat(l.CA); err != nil {
			bad("ca", "%v", err)
		}
	}
	if l.BindPassword != "" && l.BindPasswordFile != "" {
		bad("bind_password", "give bind_password or bind_password_file, not both")
	}
	if _, err := l.Password(); err != nil {
		bad("bind_password_file", "%v", err)
	}
	if l.BindDN != "" {
		if _, err := ldap.ParseDN(l.BindDN); err != nil {
			bad("bind_dn", "%q is not a DN: %v", l.BindDN, err)
		}
	}
	if l.UserBase == "" {
		bad("user_base", "must be set")
	} else if _, err := ldap.ParseDN(l.UserBase); err != nil {
		bad("user_base", "%q is not a DN: %v", l.UserBase, err)
	}
	if l.GroupBase != "" {
		if _, err := ldap.ParseDN(l.GroupBase); err != nil {
			bad("group_base", "%q is not a DN: %v", l.GroupBase, err)
		}
	}
	for key, f := range map[string]string{"user_filter": l.UserFilter, "group_filter": l.GroupFilter} {
		if _, err := ldap.CompileFilter(f); err != nil {
			bad(key, "%q is not an LDAP filter: %v", f, err)
		}
	}
	for key, a := range map[string]string{"localpart_attribute": l.LocalpartAttribute,
		"group_member_attribute": l.GroupMemberAttribute, "group_name_attribute": l.GroupNameAttribute,
		"vcard.fn": l.VCard.FN, "vcard.title": l.VCard.Title, "vcard.org": l.VCard.Org,
		"vcard.department": l.VCard.Department, "vcard.phone": l.VCard.Phone,
		"vcard.email": l.VCard.Email, "vcard.photo": l.VCard.Photo} {
		if !attrName.MatchString(a) {
			bad(key, "%q is not an attribute name", a)
		}
	}
	if l.PoolSize > 64 {
		bad("pool_size", "%d is more than 64", l.PoolSize)
	}
	if l.Timeout.Duration > time.Minute {
		bad("timeout", "%s is more than a minute", l.Timeout.Duration)
	}
	if l.SyncInterval.Duration < time.Second {
		bad("sync_interval", "%s is less than a second", l.SyncInterval.Duration)
	}
	return errs
}
