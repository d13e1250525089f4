package config

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"parley/internal/defaults"
)

// OIDC is an OpenID Connect provider (Keycloak, Entra ID, Okta, ...)
// through which people log in to the admin API and get XMPP logins
// (docs/admin.md "Single sign-on", docs/design/26_oidc.md). It is on
// when Issuer is set.
type OIDC struct {
	// Issuer is the provider's issuer URL; its discovery document is
	// Issuer + "/.well-known/openid-configuration". https://, or http://
	// on a loopback address.
	Issuer string `toml:"issuer"`
	// CA is a PEM bundle the provider's certificate must chain to; empty
	// is the system roots.
	CA string `toml:"ca"`
	// ClientID and ClientSecret (or ClientSecretFile, whose content minus
	// a trailing newline is the secret) are parley's registration at the
	// provider (a confidential client).
	ClientID         string `toml:"client_id"`
	ClientSecret     string `toml:"client_secret"`
	ClientSecretFile string `toml:"client_secret_file"`
	// RedirectURL is parley's callback as registered at the provider:
	// https://HOST[:PORT]/api/v1/sso/callback.
	RedirectURL string `toml:"redirect_url"`
	// Scopes asked for besides openid (default profile).
	Scopes []string `toml:"scopes"`
	// UsernameClaim names the ID token claim that gives the account: a
	// localpart, or a bare JID of this server's domain (default
	// preferred_username).
	UsernameClaim string `toml:"username_claim"`
	// RolesClaim names the claim (a string or a list of strings) whose
	// values Roles maps to parley's operator roles (default groups).
	RolesClaim string `toml:"roles_claim"`
	// Roles maps a value of RolesClaim to admin, helpdesk, compliance or
	// auditor. Without a mapping a login can only get a user token.
	Roles map[string]string `toml:"roles"`
	// CreateAccounts creates the XMPP account (without a password) the
	// first time someone logs in; otherwise only existing accounts can.
	CreateAccounts bool `toml:"create_accounts"`
	// ClockSkew is how far past its expiry an ID token is still taken,
	// for clocks that disagree (default 1m, at most 5m).
	ClockSkew Duration `toml:"clock_skew"`
	// TokenLifetime is the life of the API token a login gets (default
	// 1h, at most 30 days).
	TokenLifetime Duration `toml:"token_lifetime"`
}

// On says whether a provider is configured.
func (o OIDC) On() bool { return o.Issuer != "" }

// WithDefaults returns o with every unset field at its default.
func (o OIDC) WithDefaults() OIDC {
	if len(o.Scopes) == 0 {
		o.Scopes = []string{"profile"}
	}
	if o.UsernameClaim == "" {
		o.UsernameClaim = "preferred_username"
	}
	if o.RolesClaim == "" {
		o.RolesClaim = "groups"
	}
	defaults.Positive(&o.ClockSkew.Duration, time.Minute)
	defaults.Positive(&o.TokenLifetime.Duration, time.Hour)
	return o
}

// Secret returns the client secret, from the file if one is named.
func (o OIDC) Secret() (string, error) {
	if o.ClientSecretFile == "" {
		return o.ClientSecret, nil
	}
	b, err := os.ReadFile(o.ClientSecretFile)
	if err != nil {
		return "", fmt.Errorf("auth.oidc.client_secret_file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// oidcRoles are the roles a provider's claim may map to (control.Roles;
// config does not import control).
var oidcRoles = []string{"admin", "helpdesk", "compliance", "auditor"}

func (o OIDC) validate() []error {
	if !o.On() {
		return nil
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: "auth.oidc." + key, Msg: fmt.Sprintf(format, args...)})
	}
	o = o.WithDefaults()
	// Tokens and secrets cross these connections: TLS, except on loopback.
	secureURL := func(key, s string) {
		u, err := url.Parse(s)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "":
			bad(key, "%q is not an https:// URL", s)
		case u.Scheme == "http" && !IsLoopback(u.Hostname()):
			bad(key, "%q is plain HTTP: use https:// (http:// only on loopback)", s)
		}
	}
	secureURL("issuer", o.Issuer)
	if o.RedirectURL == "" {
		bad("redirect_url", "must be set (https://HOST/api/v1/sso/callback)")
	} else {
		secureURL("redirect_url", o.RedirectURL)
		if u, err := url.Parse(o.RedirectURL); err == nil && u.Path != "/api/v1/sso/callback" {
			bad("redirect_url", "%q: the path must be /api/v1/sso/callback", o.RedirectURL)
		}
	}
	if o.CA != "" {
		if _, err := os.Stat(o.CA); err != nil {
			bad("ca", "%v", err)
		}
	}
	if o.ClientID == "" {
		bad("client_id", "must be set")
	}
	if o.ClientSecret != "" && o.ClientSecretFile != "" {
		bad("client_secret", "give client_secret or client_secret_file, not both")
	}
	if s, err := o.Secret(); err != nil {
		bad("client_secret_file", "%v", err)
	} else if s == "" {
		bad("client_secret", "must be set (or client_secret_file)")
	}
	for _, s := range o.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\"\\") {
			bad("scopes", "%q is not a scope", s)
		}
	}
	for v, role := range o.Roles {
		if !slices.Contains(oidcRoles, role) {
			bad("roles", "%q maps to %q, which is not one of %s", v, role, strings.Join(oidcRoles, ", "))
		}
	}
	if o.ClockSkew.Duration > 5*time.Minute {
		bad("clock_skew", "%s is more than 5m", o.ClockSkew.Duration)
	}
	if o.TokenLifetime.Duration > 30*24*time.Hour {
		bad("token_lifetime", "%s is more than 30 days", o.TokenLifetime.Duration)
	}
	return errs
}
