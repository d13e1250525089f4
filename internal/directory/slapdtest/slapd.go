// Package slapdtest runs Debian's slapd for tests: its own slapd.conf,
// database and TLS certificate in a temporary directory, on a loopback
// port, loaded with an LDIF. Tests skip when slapd is not installed,
// except under CI (CI=true), where they fail: .ci/run installs slapd.
package slapdtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"parley/internal/daemontest"
)

// Suffix, AdminDN and AdminPassword of the test directory.
const (
	Suffix        = "dc=example,dc=com"
	AdminDN       = "cn=admin," + Suffix
	AdminPassword = "admin-secret"
)

// Slapd is a running slapd.
type Slapd struct {
	// URL is ldap://127.0.0.1:PORT (StartTLS offered); CA the PEM file
	// of the certificate it presents.
	URL, CA string
	t       testing.TB
	*daemontest.Daemon
}

// Start runs slapd with the LDIF loaded under Suffix (which the LDIF must
// create). It is stopped at the end of the test.
func Start(t testing.TB, ldif string) *Slapd {
	t.Helper()
	bin := daemontest.Require(t, "slapd", "slapd ldap-utils", "/usr/sbin/slapd")
	dir := t.TempDir()
	daemontest.WriteCert(t, dir)
	addr := daemontest.FreeAddr(t)
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile %[1]s/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile %[1]s/cert.pem
TLSCertificateKeyFile %[1]s/key.pem
sizelimit 500
database mdb
maxsize 104857600
suffix "%[2]s"
rootdn "%[3]s"
rootpw %[4]s
directory %[1]s/db
`, dir, Suffix, AdminDN, AdminPassword)
	daemontest.WriteFile(t, filepath.Join(dir, "slapd.conf"), conf)
	daemontest.WriteFile(t, filepath.Join(dir, "data.ldif"), ldif)
	if out, err := exec.Command(filepath.Join(filepath.Dir(bin), "slapadd"), "-f", filepath.Join(dir, "slapd.conf"),
		"-l", filepath.Join(dir, "data.ldif")).CombinedOutput(); err != nil {
		// slapadd is slapd under another name.
		if out2, err2 := exec.Command(bin, "-T", "add", "-f", filepath.Join(dir, "slapd.conf"),
			"-l", filepath.Join(dir, "data.ldif")).CombinedOutput(); err2 != nil {
			t.Fatalf("slapadd: %v\n%s\n%s", err2, out, out2)
		}
	}
	url := "ldap://" + addr
	d := daemontest.Start(t, &daemontest.Daemon{Path: bin, Args: []string{"-f", filepath.Join(dir, "slapd.conf"), "-h", url + "/", "-d", "0"},
		Addr: addr, Signal: os.Interrupt})
	return &Slapd{URL: url, CA: filepath.Join(dir, "cert.pem"), t: t, Daemon: d}
}

// Admin returns a connection bound as the directory's root, closed at
// the end of the test.
func (s *Slapd) Admin() *ldap.Conn {
	s.t.Helper()
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	if err := c.Bind(AdminDN, AdminPassword); err != nil {
		s.t.Fatal(err)
	}
	return c
}

// Delete removes an entry.
func (s *Slapd) Delete(dn string) {
	s.t.Helper()
	if err := s.Admin().Del(ldap.NewDelRequest(dn, nil)); err != nil {
		s.t.Fatalf("delete %s: %v", dn, err)
	}
}

// Replace sets an attribute of an entry.
func (s *Slapd) Replace(dn, attr string, values ...string) {
	s.t.Helper()
	m := ldap.NewModifyRequest(dn, nil)
	m.Replace(attr, values)
	if err := s.Admin().Modify(m); err != nil {
		s.t.Fatalf("modify %s: %v", dn, err)
	}
}

// LDIF is a small organisation: alice, bob and carol in ou=people
// (password "<name>-pw"), dave (disabled: employeeType=disabled), and the
// groups Engineering (alice, bob) and Sales (bob, carol).
const LDIF = `dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
o: Example Corp
dc: example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=com
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: alice
cn: Alice Archer
sn: Archer
title: Engineer
o: Example Corp
ou: Engineering
telephoneNumber: +1 555 0100
mail: alice@example.com
jpegPhoto:: /9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U
userPassword: alice-pw

dn: uid=bob,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: bob
cn: Bob Baker
sn: Baker
userPassword: bob-pw

dn: uid=carol,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: carol
cn: Carol Cook
sn: Cook
userPassword: carol-pw

dn: uid=dave,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: dave
cn: Dave Disabled
sn: Disabled
employeeType: disabled
userPassword: dave-pw

dn: cn=Engineering,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: Engineering
member: uid=alice,ou=people,dc=example,dc=com
member: uid=bob,ou=people,dc=example,dc=com

dn: cn=Sales,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: Sales
member: uid=bob,ou=people,dc=example,dc=com
member: UID=Carol, ou=People,dc=example,dc=com
`
