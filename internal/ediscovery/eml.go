package ediscovery

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/idna"
)

// conversation is the messages of one conversation on one day (UTC),
// which become one EML message: a 1:1 conversation (its two parties) or
// a room.
type conversation struct {
	key     string   // the room's JID, or the two parties' bare JIDs
	parties []string // bare JIDs (a room: its JID)
	room    bool
	day     string // YYYY-MM-DD
	msgs    []Message
}

// conversations groups msgs by conversation and day, in time order.
func conversations(msgs []Message, domain string) []*conversation {
	byKey := map[string]*conversation{}
	var out []*conversation
	for _, m := range msgs {
		c := &conversation{day: m.Stamp.UTC().Format(time.DateOnly)}
		if m.Type == "groupchat" || domainOf(m.Archive) != domain {
			c.room, c.parties = true, []string{m.Archive}
		} else {
			c.parties = []string{bareOf(m.From), bareOf(m.To)}
			if c.parties[1] == "" {
				c.parties[1] = m.Archive
			}
			slices.Sort(c.parties)
			c.parties = slices.Compact(c.parties)
		}
		c.key = strings.Join(c.parties, " ")
		k := c.key + "\x00" + c.day
		if have := byKey[k]; have != nil {
			c = have
		} else {
			byKey[k] = c
			out = append(out, c)
		}
		c.msgs = append(c.msgs, m)
	}
	for _, c := range out {
		slices.SortStableFunc(c.msgs, func(a, b Message) int { return a.Stamp.Compare(b.Stamp) })
	}
	slices.SortFunc(out, func(a, b *conversation) int {
		return strings.Compare(a.day+"\x00"+a.key, b.day+"\x00"+b.key)
	})
	return out
}

func domainOf(j string) string {
	j = bareOf(j)
	if i := strings.IndexByte(j, '@'); i >= 0 {
		return j[i+1:]
	}
	return j
}

// fileName is the conversation's EML file in the export: its day, its
// parties made safe for file names, and a digest that keeps two
// conversations whose safe names meet apart.
func (c *conversation) fileName() string {
	safe := strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@.-_", r)) {
			return r
		}
		return '_'
	}, strings.ReplaceAll(c.key, " ", "_"))
	if len(safe) > 100 {
		safe = safe[:100]
	}
	sum := sha256.Sum256([]byte(c.key))
	return fmt.Sprintf("eml/%s_%s_%s.eml", c.day, safe, hex.EncodeToString(sum[:4]))
}

// eml is the conversation as one RFC 5322 message: UTF-8 text in
// quoted-printable (RFC 2045), header texts as RFC 2047 encoded words
// where they are not ASCII, CRLF line ends.
func (c *conversation) eml(domain string) []byte {
	first := c.msgs[0]
	from, to := c.parties[0], c.parties
	if !c.room {
		from = bareOf(first.From)
		if from == "" {
			from = c.parties[0]
		}
		to = slices.DeleteFunc(slices.Clone(c.parties), func(p string) bool { return p == from })
		if len(to) == 0 {
			to = []string{from}
		}
	}
	kind := "Chat"
	if c.room {
		kind = "Room"
	}
	subject := fmt.Sprintf("%s %s on %s (%d messages)", kind, strings.Join(c.parties, ", "), c.day, len(c.msgs))
	sum := sha256.Sum256([]byte(c.key + "\x00" + c.day))

	var h bytes.Buffer
	header := func(name, value string) { fmt.Fprintf(&h, "%s: %s\r\n", name, value) }
	header("From", address(from))
	tos := make([]string, len(to))
	for i, t := range to {
		tos[i] = address(t)
	}
	header("To", strings.Join(tos, ", "))
	header("Date", first.Stamp.UTC().Format(time.RFC1123Z))
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Message-ID", "<"+hex.EncodeToString(sum[:16])+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("X-Parley-Conversation", mime.QEncoding.Encode("utf-8", c.key))
	header("X-Parley-Messages", fmt.Sprint(len(c.msgs)))
	h.WriteString("\r\n")

	var body bytes.Buffer
	for _, m := range c.msgs {
		body.WriteString(transcriptLine(m))
	}
	qp := quotedprintable.NewWriter(&h)
	qp.Write(body.Bytes()) // a bytes.Buffer does not fail
	qp.Close()
	return h.Bytes()
}

// address is a JID as a mailbox: its bare JID as the address, with the
// full JID (a room occupant) as the display name. Headers stay ASCII
// (RFC 5322; not every ingestion tool takes RFC 6532's UTF-8): a
// localpart or domain that is not ASCII is written in Punycode (RFC
// 3492, the "xn--" form IDNA gives domains) and the JID itself becomes
// the display name, in RFC 2047 encoded words.
func address(j string) string {
	bare := bareOf(j)
	a := mail.Address{Address: bare}
	if j != bare {
		a.Name = j
	}
	if !isASCII(bare) {
		local, dom, _ := strings.Cut(bare, "@")
		for _, p := range []*string{&local, &dom} {
			if ascii, err := idna.Punycode.ToASCII(*p); err == nil {
				*p = ascii
			}
		}
		a = mail.Address{Name: j, Address: local + "@" + dom}
	}
	return a.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// transcriptLine is one message in an EML body: time, sender, what it
// says, and what it is (correction, retraction, tombstone, attachments).
func transcriptLine(m Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", m.Stamp.UTC().Format(time.RFC3339), m.From)
	switch {
	case m.Retracted != nil && m.Retracted.Moderated:
		fmt.Fprintf(&b, ": (message removed by a moderator at %s", m.Retracted.Stamp)
		if m.Retracted.Reason != "" {
			fmt.Fprintf(&b, ": %s", m.Retracted.Reason)
		}
		b.WriteString(")")
	case m.Retracted != nil:
		fmt.Fprintf(&b, ": (message retracted by its sender at %s)", m.Retracted.Stamp)
	case m.Retracts != "":
		fmt.Fprintf(&b, ": (retracts message %s)", m.Retracts)
	case m.Replaces != "":
		fmt.Fprintf(&b, " (correction of %s): ", m.Replaces)
	default:
		b.WriteString(": ")
	}
	body := m.Body
	if m.Held != nil {
		// The original a legal hold kept; users see the tombstone, or
		// nothing when it was deleted.
		fmt.Fprintf(&b, " [kept under legal hold: %s at %s] ", m.Held.Cause, m.Held.Kept.Format(time.RFC3339))
		body = m.Held.Body
	}
	if m.Subject != "" {
		fmt.Fprintf(&b, "[subject: %s] ", m.Subject)
	}
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n    "))
	for _, a := range m.AttachmentFiles {
		fmt.Fprintf(&b, "\r\n    [attachment: %s]", a)
	}
	b.WriteString("\r\n")
	return b.String()
}
