// Package slapdtest runs Debian's slapd for tests: its own slapd.conf,
// database and TLS certificate in a temporary directory, on a loopback
// port, loaded with an LDIF. Tests skip when slapd is not installed,
// except under CI (CI=true), where they fail: .ci/run installs slapd.
package slapdtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"parley/internal/xmpptest"
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
	dir     string
	t       testing.TB
	cmd     *exec.Cmd
	done    chan struct{}
	stderr  bytes.Buffer
}

// Start runs slapd with the LDIF loaded under Suffix (which the LDIF must
// create). It is stopped at the end of the test.
func Start(t testing.TB, ldif string) *Slapd {
	t.Helper()
	bin, err := exec.LookPath("slapd")
	if err != nil {
		bin = "/usr/sbin/slapd"
		if _, err := os.Stat(bin); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("slapd not installed (CI=true: .ci/run installs slapd and ldap-utils)")
			}
			t.Skip("slapd not installed: apt-get install slapd ldap-utils")
		}
	}
	dir := t.TempDir()
	s := &Slapd{dir: dir, t: t, CA: filepath.Join(dir, "cert.pem")}
	writeCert(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.URL = "ldap://" + ln.Addr().String()
	ln.Close()
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
	write(t, filepath.Join(dir, "slapd.conf"), conf)
	write(t, filepath.Join(dir, "data.ldif"), ldif)
	if out, err := exec.Command(filepath.Join(filepath.Dir(bin), "slapadd"), "-f", filepath.Join(dir, "slapd.conf"),
		"-l", filepath.Join(dir, "data.ldif")).CombinedOutput(); err != nil {
		// slapadd is slapd under another name.
		if out2, err2 := exec.Command(bin, "-T", "add", "-f", filepath.Join(dir, "slapd.conf"),
			"-l", filepath.Join(dir, "data.ldif")).CombinedOutput(); err2 != nil {
			t.Fatalf("slapadd: %v\n%s\n%s", err2, out, out2)
		}
	}
	s.cmd = exec.Command(bin, "-f", filepath.Join(dir, "slapd.conf"), "-h", s.URL+"/", "-d", "0")
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// start runs the configured command and waits until slapd answers.
func (s *Slapd) start() {
	s.t.Helper()
	cmd := exec.Command(s.cmd.Path, s.cmd.Args[1:]...)
	s.stderr.Reset()
	cmd.Stderr = &s.stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.done) }()
	xmpptest.Eventually(s.t, 10*time.Second, func() error {
		select {
		case <-s.done:
			s.t.Fatalf("slapd exited: %s", s.stderr.String())
		default:
		}
		c, err := ldap.DialURL(s.URL)
		if err != nil {
			return err
		}
		c.Close()
		return nil
	})
}

// Stop stops slapd (and waits for it); Restart starts it again on the
// same port and data.
func (s *Slapd) Stop() {
	if s.done == nil {
		return
	}
	select {
	case <-s.done:
	default:
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
	}
	s.done = nil
}

// Restart starts a stopped slapd again.
func (s *Slapd) Restart() {
	s.t.Helper()
	s.start()
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

// writeCert makes a self-signed certificate for 127.0.0.1 (cert.pem,
// key.pem in dir): slapd presents it, clients trust it as their CA.
func writeCert(t testing.TB, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "cert.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	write(t, filepath.Join(dir, "key.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})))
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
