package config

import (
	"fmt"
	"net"
	"net/mail"
	"slices"
)

// Digest configures missed-message digests by email (internal/im/digest):
// users who opt in get one mail summarising the 1:1 messages and room
// mentions that reached them while none of their clients was connected.
// Off unless SMTP is set.
type Digest struct {
	// SMTP is the submission server as host:port ("" turns digests off).
	SMTP string `toml:"smtp"`
	// Security is starttls (default: STARTTLS required, port 587), tls
	// (TLS from the first byte, port 465) or none (only to a relay on
	// loopback).
	Security string `toml:"security"`
	// Username and PasswordFile authenticate with AUTH PLAIN, over TLS
	// only; the password is read from the file at start, never from this
	// file. An empty Username sends without authentication.
	Username     string `toml:"username"`
	PasswordFile string `toml:"password_file"`
	// CAFile is a PEM bundle that verifies the server's certificate
	// instead of the system's roots (a private CA).
	CAFile string `toml:"ca_file"`
	// From is the sender's address (default noreply@<domain>).
	From string `toml:"from"`
	// Delay is how long a digest collects missed messages before it is
	// sent, unless a client of the user comes online first (default 1h).
	Delay Duration `toml:"delay"`
	// IncludeBody quotes the messages in digests (default false: who
	// wrote and how often only, since mail leaves the site's control).
	IncludeBody bool `toml:"include_body"`
}

// Digest security values.
var digestSecurity = []string{"", "starttls", "tls", "none"}

func (d *Digest) validate() []error {
	if d.SMTP == "" {
		return nil
	}
	var errs []error
	bad := func(key, msg string) { errs = append(errs, &KeyError{Key: "digest." + key, Msg: msg}) }
	if _, _, err := net.SplitHostPort(d.SMTP); err != nil {
		bad("smtp", fmt.Sprintf("%q is not host:port", d.SMTP))
	}
	if !slices.Contains(digestSecurity, d.Security) {
		bad("security", fmt.Sprintf("%q is not starttls, tls or none", d.Security))
	}
	if d.Security == "none" && !IsLoopback(d.SMTP) {
		bad("security", "none sends mail in clear text: only to a relay on loopback")
	}
	if (d.Username == "") != (d.PasswordFile == "") {
		bad("username", "username and password_file go together")
	}
	if d.Username != "" && d.Security == "none" {
		bad("username", "the password is sent only over TLS: set security to starttls or tls")
	}
	if d.From != "" {
		if a, err := mail.ParseAddress(d.From); err != nil || a.Name != "" {
			bad("from", fmt.Sprintf("%q is not an email address", d.From))
		}
	}
	notNegative(&errs, "digest.delay", d.Delay.Duration)
	return errs
}
