package digest

import (
	"net/mail"
	"testing"
)

// StartSMTP starts the test's SMTP server for the integration tests
// (package digest_test): its address, its certificate (to trust as a
// CA), its AUTH credentials, and what it has received so far.
func StartSMTP(t *testing.T) (addr, caFile, user, password string, mails func(*testing.T) []*mail.Message) {
	s := startSMTP(t)
	return s.addr, s.caFile, smtpUser, smtpPassword, s.mails
}
