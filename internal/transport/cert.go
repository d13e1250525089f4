package transport

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"parley/internal/durable"
)

// selfSignedValidity is how long a generated certificate lasts. A year keeps
// a forgotten test server from running on one forever; deleting the files
// makes the next start generate a fresh one.
const selfSignedValidity = 365 * 24 * time.Hour

// LoadOrCreateCert returns the server's certificate. With certFile and
// keyFile it loads those (PEM). Otherwise it loads <dataDir>/tls/<domain>.crt
// and .key, creating a self-signed ECDSA P-256 certificate there first if
// they do not exist. Giving only one of certFile and keyFile is an error.
func LoadOrCreateCert(dataDir, domain, certFile, keyFile string) (tls.Certificate, error) {
	if certFile != "" || keyFile != "" {
		if certFile == "" || keyFile == "" {
			return tls.Certificate{}, errors.New("transport: a certificate needs both cert and key files")
		}
		return loadPair(certFile, keyFile)
	}
	if domain == "" {
		return tls.Certificate{}, errors.New("transport: no domain to make a certificate for")
	}
	dir := filepath.Join(dataDir, "tls")
	certFile = filepath.Join(dir, domain+".crt")
	keyFile = filepath.Join(dir, domain+".key")
	_, certErr := os.Stat(certFile)
	_, keyErr := os.Stat(keyFile)
	switch {
	case certErr == nil && keyErr == nil:
		return loadPair(certFile, keyFile)
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
	default:
		// One file without the other is damage (or a half-finished copy)
		// the operator should see, not something to paper over by
		// overwriting.
		return tls.Certificate{}, fmt.Errorf("transport: %s and %s must both exist or both be absent", certFile, keyFile)
	}
	certPEM, keyPEM, err := selfSigned(domain, time.Now())
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, fmt.Errorf("transport: %w", err)
	}
	// The key is written first: a crash between the two writes leaves a
	// key without a certificate, which the check above reports.
	if err := writeNew(keyFile, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeNew(certFile, certPEM, 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

func loadPair(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("transport: load %s, %s: %w", certFile, keyFile, err)
	}
	return c, nil
}

// writeNew creates path exclusively, so two servers starting on one data
// directory cannot interleave their generated files unnoticed.
func writeNew(path string, data []byte, perm os.FileMode) error {
	created, err := durable.CreateOnce(path, perm, data)
	if err != nil {
		return fmt.Errorf("transport: write %s: %w", path, err)
	}
	if !created {
		return fmt.Errorf("transport: %s: %w", path, fs.ErrExist)
	}
	return nil
}

// selfSigned makes a certificate for domain and its subdomains (MUC and
// upload services live there). For "localhost" it also names the loopback
// addresses, so local clients connecting by IP can pin it.
func selfSigned(domain string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("transport: generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, fmt.Errorf("transport: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: domain, Organization: []string{"parley self-signed"}},
		NotBefore:             now.Add(-time.Hour), // tolerate clients with a slow clock
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{domain, "*." + domain},
	}
	if domain == "localhost" {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("transport: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("transport: marshal key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// TLSConfig is the server side of every TLS listener and STARTTLS. ALPN
// "xmpp-client" is what XEP-0368 direct-TLS clients offer.
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"xmpp-client"},
	}
}

// Certs holds the server's certificate so that it can be replaced while
// the server runs (SIGHUP after a renewal): handshakes after Set use the
// new one, established connections keep theirs.
type Certs struct {
	cur atomic.Pointer[tls.Certificate]
}

// Set replaces the certificate.
func (c *Certs) Set(cert tls.Certificate) { c.cur.Store(&cert) }

// TLSConfig is TLSConfig for the certificate held in c, whichever it is at
// the time of each handshake.
func (c *Certs) TLSConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return c.cur.Load(), nil },
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"xmpp-client"},
	}
}
