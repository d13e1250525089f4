package directory

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync/atomic"

	"github.com/go-ldap/ldap/v3"

	"parley/internal/config"
)

// ErrUnavailable means the directory did not answer (down, unreachable,
// timed out, TLS failed): a temporary condition.
var ErrUnavailable = errors.New("directory: unavailable")

// pool keeps up to cfg.PoolSize connections bound as the service account.
type pool struct {
	cfg      config.LDAP
	password string
	tls      *tls.Config
	idle     chan *ldap.Conn // connections ready for use
	slots    chan struct{}   // one per connection in use: bounds them
	closed   atomic.Bool     // after close, connections are not kept
}

func newPool(cfg config.LDAP) (*pool, error) {
	pw, err := cfg.Password()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("directory: url: %w", err)
	}
	tc := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if cfg.CA != "" {
		pem, err := os.ReadFile(cfg.CA)
		if err != nil {
			return nil, fmt.Errorf("directory: ca: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("directory: ca: no certificate in %s", cfg.CA)
		}
	}
	return &pool{cfg: cfg, password: pw, tls: tc,
		idle: make(chan *ldap.Conn, cfg.PoolSize), slots: make(chan struct{}, cfg.PoolSize)}, nil
}

// dial opens a connection (TLS per the URL or StartTLS) bound as the
// service account.
func (p *pool) dial() (*ldap.Conn, error) {
	c, err := ldap.DialURL(p.cfg.URL, ldap.DialWithDialer(&net.Dialer{Timeout: p.cfg.Timeout.Duration}),
		ldap.DialWithTLSConfig(p.tls))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	c.SetTimeout(p.cfg.Timeout.Duration)
	if p.cfg.StartTLS {
		if err := c.StartTLS(p.tls); err != nil {
			c.Close()
			return nil, fmt.Errorf("%w: starttls: %v", ErrUnavailable, err)
		}
	}
	if err := p.rebind(c); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// rebind binds c as the service account again (anonymous without one).
func (p *pool) rebind(c *ldap.Conn) error {
	var err error
	if p.cfg.BindDN == "" {
		err = c.UnauthenticatedBind("")
	} else {
		err = c.Bind(p.cfg.BindDN, p.password)
	}
	if err != nil {
		return fmt.Errorf("%w: service bind: %v", ErrUnavailable, err)
	}
	return nil
}

// do runs f on a pooled connection. A connection whose request failed
// below LDAP (network, timeout) is closed, and the error is
// ErrUnavailable; the next request dials again.
func (p *pool) do(f func(c *ldap.Conn) error) error {
	p.slots <- struct{}{}
	defer func() { <-p.slots }()
	var c *ldap.Conn
	select {
	case c = <-p.idle:
		if c.IsClosing() {
			c.Close()
			c = nil
		}
	default:
	}
	if c == nil {
		var err error
		if c, err = p.dial(); err != nil {
			return err
		}
	}
	err := f(c)
	if broken(err) {
		c.Close()
		if !errors.Is(err, ErrUnavailable) {
			err = fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return err
	}
	if c.IsClosing() || p.closed.Load() {
		c.Close()
		return err
	}
	select {
	case p.idle <- c:
	default:
		c.Close()
	}
	return err
}

// broken says whether err leaves the connection unusable: a failure
// below LDAP (go-ldap's own codes start at 200: network, timeout), or
// the server saying it is busy or unavailable. An LDAP result, or the
// caller's own verdict (not found, not authorized), is not.
func broken(err error) bool {
	var le *ldap.Error
	var ne net.Error
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrUnavailable):
		return true
	case errors.As(err, &le):
		return le.ResultCode >= 200 || le.ResultCode == ldap.LDAPResultBusy || le.ResultCode == ldap.LDAPResultUnavailable
	}
	return errors.As(err, &ne)
}

// close closes the idle connections, and those in use when their
// request ends.
func (p *pool) close() {
	p.closed.Store(true)
	for {
		select {
		case c := <-p.idle:
			c.Close()
		default:
			return
		}
	}
}
