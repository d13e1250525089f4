package xmpptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a certificate authority made by a test. Its certificates name one
// domain each and serve as TLS server and client certificates (s2s TLS
// both ways, SASL EXTERNAL); like the CA they are valid from an hour ago
// (clocks differ) for a day.
type CA struct {
	Cert *x509.Certificate
	Pool *x509.CertPool // Cert alone, for a tls.Config's RootCAs
	key  *ecdsa.PrivateKey
	n    atomic.Int64 // the last serial number given
}

// NewCA makes a CA whose certificate's common name is name.
func NewCA(tb testing.TB, name string) *CA {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	ca := &CA{Cert: cert, Pool: x509.NewCertPool(), key: key}
	ca.Pool.AddCert(cert)
	ca.n.Store(1)
	return ca
}

// Issue returns a certificate for domain signed by ca.
func (ca *CA) Issue(tb testing.TB, domain string) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(ca.n.Add(1)), Subject: pkix.Name{CommonName: domain},
		DNSNames: []string{domain}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// WriteCert writes ca's certificate to path (PEM), for a configuration's
// CA bundle.
func (ca *CA) WriteCert(tb testing.TB, path string) {
	tb.Helper()
	writePEM(tb, path, "CERTIFICATE", ca.Cert.Raw)
}

// WriteIssued writes a certificate for domain signed by ca to certFile
// and its key to keyFile (PEM; the key as "EC PRIVATE KEY", which every
// daemon reads).
func (ca *CA) WriteIssued(tb testing.TB, domain, certFile, keyFile string) {
	tb.Helper()
	c := ca.Issue(tb, domain)
	kder, err := x509.MarshalECPrivateKey(c.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		tb.Fatal(err)
	}
	writePEM(tb, certFile, "CERTIFICATE", c.Certificate[0])
	writePEM(tb, keyFile, "EC PRIVATE KEY", kder)
}

func writePEM(tb testing.TB, path, typ string, der []byte) {
	tb.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
}
