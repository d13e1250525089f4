// Package daemontest runs a third-party daemon (slapd, rsyslogd...) in
// the foreground for a test: it finds the program, or skips the test
// (fails it under CI=true, where .ci/run installs everything); starts it,
// waits until it accepts connections, stops it at the end, and shows what
// it printed when the test fails.
package daemontest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"parley/internal/xmpptest"
)

// Require returns the path of program, looked up on PATH and then at the
// fallback paths. Without it the test skips, naming the Debian packages
// to install, or fails when CI=true.
func Require(tb testing.TB, program, packages string, fallback ...string) string {
	tb.Helper()
	if bin, err := exec.LookPath(program); err == nil {
		return bin
	}
	for _, bin := range fallback {
		if _, err := os.Stat(bin); err == nil {
			return bin
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s not installed (CI=true: .ci/run installs %s)", program, packages)
	}
	tb.Skipf("%s not installed: apt-get install %s", program, packages)
	return ""
}

// FreeAddr returns a loopback address whose port the kernel picked, free
// again for a daemon to bind.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Daemon is a program a test runs in the foreground.
type Daemon struct {
	Path   string
	Args   []string
	Addr   string    // the TCP address it accepts connections on once ready
	Signal os.Signal // what stops it

	tb   testing.TB
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex // guards out, written by the process's copiers
	out  bytes.Buffer
}

// Start runs d and waits until Addr accepts a connection; d is stopped at
// the end of the test and its output is logged if the test failed.
func Start(tb testing.TB, d *Daemon) *Daemon {
	tb.Helper()
	d.tb = tb
	d.start()
	tb.Cleanup(func() {
		d.Stop()
		if tb.Failed() {
			tb.Logf("%s printed:\n%s", filepath.Base(d.Path), d.output())
		}
	})
	return d
}

// Write collects the daemon's output.
func (d *Daemon) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.Write(p)
}

func (d *Daemon) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

func (d *Daemon) start() {
	d.tb.Helper()
	cmd := exec.Command(d.Path, d.Args...)
	cmd.Stdout, cmd.Stderr = d, d
	if err := cmd.Start(); err != nil {
		d.tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	d.cmd, d.done = cmd, done
	xmpptest.Eventually(d.tb, 10*time.Second, func() error {
		select {
		case <-done:
			d.tb.Fatalf("%s exited: %s", filepath.Base(d.Path), d.output())
		default:
		}
		c, err := net.Dial("tcp", d.Addr)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// Stop sends the daemon its Signal and waits for it to end, killing it
// after 20 s.
func (d *Daemon) Stop() {
	if d.done == nil {
		return
	}
	select {
	case <-d.done:
	default:
		d.cmd.Process.Signal(d.Signal)
		select {
		case <-d.done:
		case <-time.After(20 * time.Second):
			d.cmd.Process.Kill()
			<-d.done
		}
	}
	d.done = nil
}

// Restart starts a stopped daemon again and waits until it is ready.
func (d *Daemon) Restart() {
	d.tb.Helper()
	d.start()
}

// WriteCert writes a self-signed certificate for 127.0.0.1 and localhost
// to dir as cert.pem and its key as key.pem: the daemon presents it, and
// its clients trust it as their CA.
func WriteCert(tb testing.TB, dir string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	WriteFile(tb, filepath.Join(dir, "cert.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	WriteFile(tb, filepath.Join(dir, "key.pem"), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})))
}

// WriteFile writes content to path, readable by the owner alone.
func WriteFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
}
