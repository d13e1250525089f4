package server_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"parley/internal/transport"
	"parley/internal/xmpptest"
)

// certFiles makes a self-signed certificate for localhost in a directory
// of its own and returns its files and DER bytes.
func certFiles(t *testing.T) (crt, key string, der []byte) {
	t.Helper()
	dir := t.TempDir()
	if _, err := transport.LoadOrCreateCert(dir, "localhost", "", ""); err != nil {
		t.Fatal(err)
	}
	crt, key = filepath.Join(dir, "tls", "localhost.crt"), filepath.Join(dir, "tls", "localhost.key")
	b, err := os.ReadFile(crt)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM in", crt)
	}
	return crt, key, blk.Bytes
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func peerCert(t *testing.T, c *xmpptest.Client) []byte {
	t.Helper()
	if c.TLS == nil || len(c.TLS.PeerCertificates) == 0 {
		t.Fatal("no TLS peer certificate")
	}
	return c.TLS.PeerCertificates[0].Raw
}

// SIGHUP to a serving `parley serve` with a connected client (issue 9
// item 9): the process lives on, the session is not dropped, the renewed
// certificate files serve new connections, the log level changes, and a
// changed setting that needs a restart is named in the log.
func TestSIGHUPReloads(t *testing.T) {
	bin := parleyBinary(t)
	data := t.TempDir()
	crtA, keyA, derA := certFiles(t)
	crtB, keyB, derB := certFiles(t)
	crt, key := filepath.Join(data, "site.crt"), filepath.Join(data, "site.key")
	copyFile(t, crtA, crt)
	copyFile(t, keyA, key)
	conf := filepath.Join(t.TempDir(), "parley.toml")
	write := func(extra string) {
		body := "cert = \"" + crt + "\"\nkey = \"" + key + "\"\n" + extra
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// [listen] proxy65 has no flag; off so that tests do not share :7777.
	write("log_level = \"info\"\n[listen]\nproxy65 = \"off\"\n")
	parleyCmd(t, bin, "user", "add", "alice", "--password", restartPass, "--data", data, "--domain", "localhost", "--config", conf)
	p := startServe(t, bin, data, "--config", conf)

	c := restartDial(t, p.c2s, "alice")
	if !bytes.Equal(peerCert(t, c), derA) {
		t.Fatal("the first connection did not get the configured certificate")
	}

	copyFile(t, crtB, crt) // a renewal, as certbot's deploy hook does
	copyFile(t, keyB, key)
	write("log_level = \"debug\"\n[listen]\nproxy65 = \"off\"\n[limits]\nmax_stanza = 300000\nmax_connections_per_ip = 2\n" +
		"[register]\nenabled = true\n[archive]\ndefault = \"roster\"\n[muc]\ncreate = \"anyone\"\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	xmpptest.Eventually(t, restartWait, func() error {
		if !strings.Contains(p.logText(), "configuration reloaded") {
			select {
			case <-p.done:
				t.Fatalf("parley serve died at SIGHUP:\n%s", p.logText())
			default:
			}
			return errString("no reload in the log")
		}
		return nil
	})
	log := p.logText()
	if !strings.Contains(log, "needs a restart to take effect\" key=limits.max_stanza") {
		t.Errorf("the changed limits.max_stanza is not named as needing a restart:\n%s", log)
	}
	if strings.Contains(log, "key=log_level") || strings.Contains(log, "key=cert") || strings.Contains(log, "key=limits.max_connections_per_ip") ||
		strings.Contains(log, "key=register") || strings.Contains(log, "key=archive") || strings.Contains(log, "key=muc") {
		t.Errorf("a live setting is named as needing a restart:\n%s", log)
	}
	if !strings.Contains(log, "log_level=DEBUG") {
		t.Errorf("log level not reloaded:\n%s", log)
	}

	// The session goes on.
	if _, err := c.IQ(restartWait, "get", "localhost", "<ping xmlns='urn:xmpp:ping'/>"); err != nil {
		t.Fatalf("the session did not survive SIGHUP: %v", err)
	}
	// New connections get the renewed certificate.
	c2, err := xmpptest.Dial(context.Background(), p.c2s, xmpptest.Options{User: "alice", Password: restartPass, Resource: "r2"})
	if err != nil {
		t.Fatalf("second login: %v", err)
	}
	defer c2.Close()
	if got := peerCert(t, c2); !bytes.Equal(got, derB) {
		cert, _ := x509.ParseCertificate(got)
		t.Fatalf("after SIGHUP a new connection got %v, not the renewed certificate", cert.NotBefore)
	}
	// The connection cap changed live: two connections from this address
	// now, and no third.
	if _, err := xmpptest.Dial(context.Background(), p.c2s, xmpptest.Options{User: "alice", Password: restartPass}); err == nil {
		t.Error("a third connection got past max_connections_per_ip = 2 set by SIGHUP")
	}
	select {
	case <-p.done:
		t.Fatal("parley serve exited")
	case <-time.After(0):
	}
}

type errString string

func (e errString) Error() string { return string(e) }
