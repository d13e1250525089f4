package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"parley/internal/config"
	"parley/internal/im/digest"
)

// newMailer makes the SMTP client of missed-message digests from [digest]
// (nil when digests are off), reading the password and CA files now so
// that a wrong path stops the start instead of the first digest.
func newMailer(cfg config.Config) (*digest.SMTP, error) {
	d := cfg.Digest
	if d.SMTP == "" {
		return nil, nil
	}
	m := &digest.SMTP{Addr: d.SMTP, Security: digest.Security(d.Security), Username: d.Username, Hello: cfg.Domain}
	if m.Security == "" {
		m.Security = digest.StartTLS
	}
	if d.PasswordFile != "" {
		b, err := os.ReadFile(d.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("digest: password_file: %w", err)
		}
		m.Password = strings.TrimRight(string(b), "\r\n")
	}
	if d.CAFile != "" {
		pem, err := os.ReadFile(d.CAFile)
		if err != nil {
			return nil, fmt.Errorf("digest: ca_file: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("digest: ca_file %s holds no PEM certificate", d.CAFile)
		}
		m.TLS = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return m, nil
}

// registerDigest adds the digest module when [digest] smtp is set.
func (s *Server) registerDigest(cfg config.Config, commands digest.Commands) {
	if s.mailer == nil {
		return
	}
	from := cfg.Digest.From
	if from == "" {
		from = "noreply@" + cfg.Domain
	}
	s.digest = digest.New(digest.Options{Store: s.store, Mailer: s.mailer, Commands: commands, From: from,
		Delay: cfg.Digest.Delay.Duration, IncludeBody: cfg.Digest.IncludeBody, Log: s.log.With("component", "digest")})
	s.digest.Register(s.router)
}
