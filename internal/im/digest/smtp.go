package digest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"time"
)

// Security is how an SMTP connection is protected.
type Security string

const (
	// StartTLS upgrades the connection with STARTTLS (RFC 3207) and
	// refuses a server that does not offer it: the submission port 587.
	StartTLS Security = "starttls"
	// ImplicitTLS speaks TLS from the first byte (RFC 8314): port 465.
	ImplicitTLS Security = "tls"
	// Plain sends in clear text; the configuration allows it only to a
	// relay on loopback.
	Plain Security = "none"
)

// SMTP sends mail through one submission server, one connection per
// message (digests are rare: an hour's batch per user at most).
type SMTP struct {
	Addr     string // host:port
	Security Security
	// TLS verifies the server (ServerName defaults to Addr's host; set
	// RootCAs for a private CA).
	TLS *tls.Config
	// Username and Password authenticate with AUTH PLAIN over TLS; an
	// empty Username sends without authentication.
	Username, Password string
	// Hello is the name given in EHLO: the XMPP domain.
	Hello   string
	Timeout time.Duration // for the whole exchange; 30s if zero
}

// Send delivers msg from one sender to one recipient.
func (c *SMTP) Send(ctx context.Context, from, to string, msg []byte) error {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("smtp: address %q: %w", c.Addr, err)
	}
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if c.TLS != nil {
		conf = c.TLS.Clone()
		if conf.ServerName == "" {
			conf.ServerName = host
		}
	}

	var conn net.Conn
	if c.Security == ImplicitTLS {
		conn, err = (&tls.Dialer{Config: conf}).DialContext(ctx, "tcp", c.Addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", c.Addr)
	}
	if err != nil {
		return fmt.Errorf("smtp: connect %s: %w", c.Addr, err)
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	client, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("smtp: %s: %w", c.Addr, err)
	}
	defer client.Close()
	if err := c.exchange(client, conf, host, from, to, msg); err != nil {
		return fmt.Errorf("smtp: %s: %w", c.Addr, err)
	}
	return nil
}

// exchange runs one session on a connected client.
func (c *SMTP) exchange(client *smtp.Client, conf *tls.Config, host, from, to string, msg []byte) error {
	hello := c.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := client.Hello(hello); err != nil {
		return err
	}
	if c.Security == StartTLS {
		if ok, _ := client.Extension("STARTTLS"); !ok {
			return errors.New("the server does not offer STARTTLS")
		}
		if err := client.StartTLS(conf); err != nil {
			return err
		}
	}
	if c.Username != "" {
		// PlainAuth refuses to send the password unless the connection is
		// TLS (or to localhost, which the configuration checks).
		if err := client.Auth(smtp.PlainAuth("", c.Username, c.Password, host)); err != nil {
			return err
		}
	}
	if err := client.Mail(from); err != nil {
		return err
	}
	if err := client.Rcpt(to); err != nil {
		return err
	}
	w, err := client.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return client.Quit()
}
