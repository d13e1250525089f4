package transport

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestLoadOrCreateCertGenerates(t *testing.T) {
	tests := []struct {
		domain string
		dns    []string
		ips    []string
	}{
		0: {domain: "localhost", dns: []string{"localhost", "*.localhost"}, ips: []string{"127.0.0.1", "::1"}},
		1: {domain: "example.com", dns: []string{"example.com", "*.example.com"}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			data := t.TempDir()
			c, err := LoadOrCreateCert(data, tc.domain, "", "")
			if err != nil {
				t.Fatal(err)
			}
			leaf, err := x509.ParseCertificate(c.Certificate[0])
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(leaf.DNSNames, tc.dns) {
				t.Errorf("DNSNames = %q, want %q", leaf.DNSNames, tc.dns)
			}
			var ips []string
			for _, ip := range leaf.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tc.ips) {
				t.Errorf("IPAddresses = %q, want %q", ips, tc.ips)
			}
			pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
			if !ok || pub.Curve != elliptic.P256() {
				t.Errorf("public key %T is not ECDSA P-256", leaf.PublicKey)
			}
			if d := time.Until(leaf.NotAfter); d < 364*24*time.Hour || d > 366*24*time.Hour {
				t.Errorf("valid for %v more, want about a year", d)
			}
			if err := leaf.VerifyHostname(tc.domain); err != nil {
				t.Error(err)
			}
			if err := leaf.VerifyHostname("conference." + tc.domain); err != nil {
				t.Error(err)
			}

			dir := filepath.Join(data, "tls")
			for path, want := range map[string]os.FileMode{
				dir:                                  0o700 | os.ModeDir,
				filepath.Join(dir, tc.domain+".key"): 0o600,
				filepath.Join(dir, tc.domain+".crt"): 0o644,
			} {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode() != want {
					t.Errorf("%s mode %v, want %v", path, fi.Mode(), want)
				}
			}

			// The second start reuses the stored certificate.
			again, err := LoadOrCreateCert(data, tc.domain, "", "")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again.Certificate[0], c.Certificate[0]) {
				t.Error("second call made a new certificate instead of loading the stored one")
			}
		})
	}
}

func TestLoadOrCreateCertExplicitFiles(t *testing.T) {
	// Make a pair somewhere else and name it explicitly.
	src := t.TempDir()
	want, err := LoadOrCreateCert(src, "example.org", "", "")
	if err != nil {
		t.Fatal(err)
	}
	crt := filepath.Join(src, "tls", "example.org.crt")
	key := filepath.Join(src, "tls", "example.org.key")
	data := t.TempDir()

	tests := []struct {
		cert, key string
		wantErr   bool
	}{
		0: {cert: crt, key: key},
		1: {cert: crt, wantErr: true},
		2: {key: key, wantErr: true},
		3: {cert: crt, key: filepath.Join(src, "missing.key"), wantErr: true},
		4: {cert: key, key: crt, wantErr: true},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got, err := LoadOrCreateCert(data, "localhost", tc.cert, tc.key)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
			} else if err != nil {
				t.Fatal(err)
			} else if !bytes.Equal(got.Certificate[0], want.Certificate[0]) {
				t.Error("loaded a different certificate")
			}
			// Named files never cause one to be generated in the data dir.
			if _, err := os.Stat(filepath.Join(data, "tls")); !os.IsNotExist(err) {
				t.Errorf("data dir has tls/: %v", err)
			}
		})
	}
}

func TestLoadOrCreateCertHalfPresent(t *testing.T) {
	data := t.TempDir()
	if _, err := LoadOrCreateCert(data, "localhost", "", ""); err != nil {
		t.Fatal(err)
	}
	crt := filepath.Join(data, "tls", "localhost.crt")
	if err := os.Remove(crt); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateCert(data, "localhost", "", ""); err == nil {
		t.Fatal("a key without its certificate was accepted")
	}
	if _, err := os.Stat(crt); !os.IsNotExist(err) {
		t.Error("the missing certificate was regenerated over an existing key")
	}
}

// TestTLSConfigHandshake checks the config end to end: a client that trusts
// the generated certificate completes TLS 1.2+ and negotiates xmpp-client.
func TestTLSConfigHandshake(t *testing.T) {
	cert, err := LoadOrCreateCert(t.TempDir(), "localhost", "", "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := TLSConfig(cert)
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x", cfg.MinVersion)
	}
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	pool := x509.NewCertPool()
	pool.AddCert(leaf)

	tests := []struct {
		serverName string
		maxVersion uint16
		wantErr    bool
	}{
		0: {serverName: "localhost"},
		1: {serverName: "127.0.0.1"},
		2: {serverName: "localhost", maxVersion: tls.VersionTLS11, wantErr: true},
		3: {serverName: "other.example", wantErr: true},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			// Real sockets, not net.Pipe: an unbuffered pipe deadlocks when
			// the client sends an alert while the server is still writing.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			done := make(chan error, 1)
			go func() {
				sc, err := ln.Accept()
				if err != nil {
					done <- err
					return
				}
				defer sc.Close()
				sc.SetDeadline(time.Now().Add(10 * time.Second))
				done <- tls.Server(sc, cfg).Handshake()
			}()
			cc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			cc.SetDeadline(time.Now().Add(10 * time.Second))
			cli := tls.Client(cc, &tls.Config{
				RootCAs: pool, ServerName: tc.serverName,
				NextProtos: []string{"xmpp-client"}, MaxVersion: tc.maxVersion,
			})
			err = cli.Handshake()
			cc.Close()
			<-done
			if tc.wantErr {
				if err == nil {
					t.Fatal("handshake succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p := cli.ConnectionState().NegotiatedProtocol; p != "xmpp-client" {
				t.Errorf("ALPN = %q, want xmpp-client", p)
			}
		})
	}
}
