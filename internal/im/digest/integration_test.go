package digest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/im/digest"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const wait = 10 * time.Second

// TestDigestOverTCP: alice opts in with the ad-hoc command from a client,
// goes offline, bob writes; after [digest] delay the SMTP server (Debian's
// aiosmtpd, STARTTLS and AUTH required) has a digest for her address.
func TestDigestOverTCP(t *testing.T) {
	addr, caFile, user, password, mails := digest.StartSMTP(t)
	pwFile := filepath.Join(t.TempDir(), "smtp.pw")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testserver.Start(t, func(c *config.Config) {
		c.Digest = config.Digest{SMTP: addr, Username: user, PasswordFile: pwFile, CAFile: caFile,
			From: "chat@example.org", Delay: config.Duration{Duration: 200 * time.Millisecond}, IncludeBody: true}
	})
	srv.AddUser(t, "alice", "pw-alice")
	srv.AddUser(t, "bob", "pw-bob")

	alice := srv.Online(t, "alice", "pw-alice", "phone")
	const cmd = `<command xmlns='http://jabber.org/protocol/commands' node='` + digest.NodeSettings + `'`
	form, err := alice.IQ(wait, "set", "localhost", cmd+` action='execute'/>`)
	if err != nil || form.Get("type") != "result" {
		t.Fatalf("execute: %v %v", form, err)
	}
	session := form.Child("command", "http://jabber.org/protocol/commands").Get("sessionid")
	done, err := alice.IQ(wait, "set", "localhost", cmd+` sessionid='`+session+`' action='complete'>`+
		`<x xmlns='jabber:x:data' type='submit'><field var='`+digest.FieldAddress+`'><value>alice@mail.example</value></field></x></command>`)
	if err != nil || done.Get("type") != "result" {
		t.Fatalf("complete: %v %v", done, err)
	}
	alice.Close()

	// Until the mail is there, bob writes again: the server may not have
	// ended alice's session yet when his first message arrives.
	bob := srv.Online(t, "bob", "pw-bob", "desk")
	xmpptest.Eventually(t, wait, func() error {
		if len(mails(t)) > 0 {
			return nil
		}
		if err := bob.Send(`<message type='chat' to='alice@localhost'><body>lunch at noon?</body></message>`); err != nil {
			t.Fatal(err)
		}
		return errors.New("no mail yet")
	})
	m := mails(t)[0]
	if m.Header.Get("To") != "<alice@mail.example>" || !strings.Contains(m.Header.Get("From"), "<chat@example.org>") {
		t.Errorf("headers: %v", m.Header)
	}
}
