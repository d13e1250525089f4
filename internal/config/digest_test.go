package config

import (
	"strconv"
	"testing"
	"time"
)

func TestValidateDigest(t *testing.T) {
	tests := []struct {
		d    Digest
		want []string
	}{
		0: {d: Digest{}}, // off
		1: {d: Digest{SMTP: "mail.example.org:587", Username: "parley", PasswordFile: "/run/secrets/smtp"}},
		2: {d: Digest{SMTP: "127.0.0.1:25", Security: "none"}},
		3: {d: Digest{SMTP: "mail.example.org"}, want: []string{`digest.smtp: "mail.example.org" is not host:port`}},
		4: {d: Digest{SMTP: "mail.example.org:25", Security: "none"}, want: []string{"digest.security: none sends mail in clear text"}},
		5: {d: Digest{SMTP: "mail.example.org:25", Security: "ssl"}, want: []string{`digest.security: "ssl" is not starttls, tls or none`}},
		6: {d: Digest{SMTP: "mail.example.org:587", Username: "parley"}, want: []string{"digest.username: username and password_file go together"}},
		7: {d: Digest{SMTP: "127.0.0.1:25", Security: "none", Username: "u", PasswordFile: "p"}, want: []string{"digest.username: the password is sent only over TLS"}},
		8: {d: Digest{SMTP: "mail.example.org:587", From: "Chat <chat@example.org>"}, want: []string{`digest.from: "Chat <chat@example.org>" is not an email address`}},
		9: {d: Digest{SMTP: "mail.example.org:587", Delay: Duration{-time.Second}}, want: []string{"digest.delay: -1s is negative"}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c := Default()
			c.Digest = tc.d
			wantProblems(t, c.Validate(), tc.want)
		})
	}
}
