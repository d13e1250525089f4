package config

import (
	"testing"
)

func TestValidateOIDC(t *testing.T) {
	secret := secretFile(t)
	ok := func(c *Config) {
		c.Auth.OIDC = OIDC{Issuer: "https://id.example.com/realms/corp", ClientID: "parley", ClientSecret: "x",
			RedirectURL: "https://xmpp.example.com/api/v1/sso/callback"}
	}
	checkValidate(t, []validateCase{
		0: {func(c *Config) {}, nil},
		1: {ok, nil},
		2: {func(c *Config) { ok(c); c.Auth.OIDC.Issuer = "http://id.example.com" }, []string{`auth.oidc.issuer: "http://id.example.com" is plain HTTP`}},
		3: {func(c *Config) {
			ok(c)
			c.Auth.OIDC.Issuer = "http://127.0.0.1:3000"
			c.Auth.OIDC.RedirectURL = "http://127.0.0.1:5280/api/v1/sso/callback"
		}, nil},
		4: {func(c *Config) { ok(c); c.Auth.OIDC.Issuer = "ldap://id.example.com" }, []string{`auth.oidc.issuer: "ldap://id.example.com" is not an https:// URL`}},
		5: {func(c *Config) { ok(c); c.Auth.OIDC.RedirectURL = "" }, []string{"auth.oidc.redirect_url: must be set"}},
		6: {func(c *Config) { ok(c); c.Auth.OIDC.RedirectURL = "https://xmpp.example.com/sso" }, []string{"auth.oidc.redirect_url: \"https://xmpp.example.com/sso\": the path must be"}},
		7: {func(c *Config) { ok(c); c.Auth.OIDC.ClientID = "" }, []string{"auth.oidc.client_id: must be set"}},
		8: {func(c *Config) { ok(c); c.Auth.OIDC.ClientSecret = "" }, []string{"auth.oidc.client_secret: must be set"}},
		9: {func(c *Config) { ok(c); c.Auth.OIDC.ClientSecretFile = secret },
			[]string{"auth.oidc.client_secret: give client_secret or client_secret_file, not both"}},
		10: {func(c *Config) { ok(c); c.Auth.OIDC.ClientSecret = ""; c.Auth.OIDC.ClientSecretFile = secret }, nil},
		11: {func(c *Config) {
			ok(c)
			c.Auth.OIDC.ClientSecret = ""
			c.Auth.OIDC.ClientSecretFile = secret + ".missing"
		},
			[]string{"auth.oidc.client_secret_file:"}},
		12: {func(c *Config) { ok(c); c.Auth.OIDC.Roles = map[string]string{"ops": "root"} }, []string{`auth.oidc.roles: "ops" maps to "root"`}},
		13: {func(c *Config) { ok(c); c.Auth.OIDC.Roles = map[string]string{"ops": "admin", "desk": "helpdesk"} }, nil},
		14: {func(c *Config) { ok(c); c.Auth.OIDC.Scopes = []string{"email groups"} }, []string{`auth.oidc.scopes: "email groups" is not a scope`}},
		15: {func(c *Config) { ok(c); c.Auth.OIDC.ClockSkew = Duration{6 * 60e9} }, []string{"auth.oidc.clock_skew: 6m0s is more than 5m"}},
		16: {func(c *Config) { ok(c); c.Auth.OIDC.TokenLifetime = Duration{31 * 24 * 3600e9} }, []string{"auth.oidc.token_lifetime: 744h0m0s is more than 30 days"}},
		17: {func(c *Config) { ok(c); c.Auth.OIDC.CA = secret + ".missing" }, []string{"auth.oidc.ca:"}},
	})
	o := OIDC{ClientSecretFile: secret}
	if s, err := o.Secret(); err != nil || s != "s3cret" {
		t.Fatalf("Secret() = %q, %v; want the file without its newline", s, err)
	}
}
