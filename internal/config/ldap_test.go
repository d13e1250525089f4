package config

import (
	"testing"
)

func TestValidateLDAP(t *testing.T) {
	pwFile := secretFile(t)
	ok := func(c *Config) {
		c.Auth.LDAP = LDAP{URL: "ldaps://ldap.example.com", UserBase: "ou=people,dc=example,dc=com"}
	}
	checkValidate(t, []validateCase{
		0: {func(c *Config) {}, nil},
		1: {ok, nil},
		2: {func(c *Config) { ok(c); c.Auth.LDAP.URL = "ldap://ldap.example.com" },
			[]string{`auth.ldap.url: "ldap://ldap.example.com" sends passwords in clear`}},
		3: {func(c *Config) { ok(c); c.Auth.LDAP.URL = "ldap://ldap.example.com"; c.Auth.LDAP.StartTLS = true }, nil},
		4: {func(c *Config) { ok(c); c.Auth.LDAP.URL = "ldap://127.0.0.1:3389" }, nil},
		5: {func(c *Config) { ok(c); c.Auth.LDAP.StartTLS = true }, []string{"auth.ldap.start_tls: is for ldap:// URLs"}},
		6: {func(c *Config) { ok(c); c.Auth.LDAP.URL = "http://ldap.example.com" }, []string{`auth.ldap.url: "http://ldap.example.com" is not`}},
		7: {func(c *Config) { ok(c); c.Auth.LDAP.UserBase = "" }, []string{"auth.ldap.user_base: must be set"}},
		8: {func(c *Config) { ok(c); c.Auth.LDAP.UserFilter = "(uid=*" }, []string{`auth.ldap.user_filter: "(uid=*" is not an LDAP filter`}},
		9: {func(c *Config) { ok(c); c.Auth.LDAP.LocalpartAttribute = "uid)(x=*" }, []string{`auth.ldap.localpart_attribute: "uid)(x=*" is not an attribute name`}},
		10: {func(c *Config) { ok(c); c.Auth.LDAP.BindPassword = "x"; c.Auth.LDAP.BindPasswordFile = pwFile },
			[]string{"auth.ldap.bind_password: give bind_password or bind_password_file, not both"}},
		11: {func(c *Config) { ok(c); c.Auth.LDAP.BindPasswordFile = pwFile + ".missing" }, []string{"auth.ldap.bind_password_file:"}},
		12: {func(c *Config) { ok(c); c.Auth.LDAP.BindDN = "not a dn" }, []string{`auth.ldap.bind_dn: "not a dn" is not a DN`}},
		13: {func(c *Config) { ok(c); c.Auth.LDAP.PoolSize = 100 }, []string{"auth.ldap.pool_size: 100 is more than 64"}},
		14: {func(c *Config) { ok(c); c.Auth.LDAP.SyncInterval = Duration{1} }, []string{"auth.ldap.sync_interval: 1ns is less than a second"}},
		15: {func(c *Config) { ok(c); c.Auth.LDAP.CA = pwFile + ".missing" }, []string{"auth.ldap.ca:"}},
		16: {func(c *Config) {
			ok(c)
			c.Auth.LDAP.GroupBase = "ou=groups,dc=example,dc=com"
			c.Auth.LDAP.VCard.Photo = "jpegPhoto;binary"
		}, nil},
	})
	l := LDAP{BindPasswordFile: pwFile}
	if pw, err := l.Password(); err != nil || pw != "s3cret" {
		t.Fatalf("Password() = %q, %v; want the file without its newline", pw, err)
	}
}
