package digest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"parley/internal/jid"
)

// compose writes the digest mail for user (RFC 5322 with MIME, CRLF line
// ends): plain text in UTF-8, quoted-printable so that no line is too
// long and any body survives transport, marked auto-generated (RFC 3834)
// so that vacation responders stay quiet.
func compose(from, to string, user jid.JID, b *batch, includeBody bool, now time.Time) []byte {
	var hdr bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&hdr, "%s: %s\r\n", k, v) }
	header("From", (&mail.Address{Name: user.Domain(), Address: from}).String())
	header("To", (&mail.Address{Address: to}).String())
	header("Subject", mime.QEncoding.Encode("utf-8", subject(b.total, user.Domain())))
	header("Date", now.UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+randomID()+"@"+user.Domain()+">")
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	hdr.WriteString("\r\n")

	var text strings.Builder
	fmt.Fprintf(&text, "While you were away, %s received %s for you (%s):\n\n", user.Domain(), count(b.total, "message"), user)
	for _, s := range b.senders {
		what := count(s.count, "message")
		if s.mentions {
			what = count(s.count, "mention")
		}
		fmt.Fprintf(&text, "  %s: %s\n", s.jid, what)
	}
	if includeBody {
		text.WriteString("\n")
		for _, l := range b.lines {
			fmt.Fprintf(&text, "[%s] %s: %s\n", l.at.UTC().Format("2006-01-02 15:04 UTC"), l.from, l.body)
		}
		if n := b.total - len(b.lines); n > 0 {
			fmt.Fprintf(&text, "… and %s more.\n", count(n, "message"))
		}
	}
	text.WriteString("\nOpen your chat client to read and answer them. To stop these emails, clear the address in the command \"Email digests of missed messages\" of your server.\n")

	qp := quotedprintable.NewWriter(&hdr)
	qp.Write([]byte(strings.ReplaceAll(text.String(), "\n", "\r\n")))
	qp.Close()
	return hdr.Bytes()
}

// subject is the mail's subject line.
func subject(n int, domain string) string {
	return fmt.Sprintf("%s waiting for you on %s", count(n, "message"), domain)
}

// count says "1 message" or "3 messages".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// randomID is the local part of a Message-ID.
func randomID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
