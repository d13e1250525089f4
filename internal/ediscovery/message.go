package ediscovery

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"parley/internal/im/mam"
	"parley/internal/router"
	"parley/internal/stanza"
	"parley/internal/store"
	"parley/internal/xmlstream"
)

// Namespaces read from archived stanzas.
const (
	nsCorrect = "urn:xmpp:message-correct:0" // XEP-0308
	nsOOB     = "jabber:x:oob"               // XEP-0066
)

// Message is one message a search found, as compliance sees it.
type Message struct {
	// Archive is the archive holding it: a user's bare JID or a room's
	// JID; ID its XEP-0359 stanza-id there.
	Archive string `json:"archive"`
	ID      string `json:"id"`
	// Copies are the other archives holding the same message (the
	// other party of a 1:1 conversation), reported here instead of as
	// a message of their own.
	Copies []Copy    `json:"copies,omitempty"`
	Stamp  time.Time `json:"stamp"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Type   string    `json:"type,omitempty"`
	// MessageID is the sender's id for it (XEP-0359 origin-id, else the
	// id attribute), by which corrections and retractions name it.
	MessageID    string `json:"message_id,omitempty"`
	Subject      string `json:"subject,omitempty"`
	Body         string `json:"body,omitempty"`
	Thread       string `json:"thread,omitempty"`        // RFC 6121 §5.2.5
	ParentThread string `json:"parent_thread,omitempty"` // XEP-0201
	Replaces     string `json:"replaces,omitempty"`      // XEP-0308: the MessageID it corrects
	Retracts     string `json:"retracts,omitempty"`      // XEP-0424: the MessageID it retracts
	// Retracted is set for a tombstone: the archive keeps only that the
	// message was retracted (XEP-0424) or moderated (XEP-0425).
	Retracted *Retraction `json:"retracted,omitempty"`
	// Held is the original a legal hold kept of a retracted, moderated
	// or deleted message (compliance sees it; users see the tombstone).
	Held *Held `json:"held,omitempty"`
	// Attachments are the URLs the message shares (in its body or a
	// XEP-0066 out-of-band element).
	Attachments []string `json:"attachments,omitempty"`
	// Related says why an export holds a message the search did not
	// find: "correction" or "retraction" of RelatedTo (archive/id).
	Related   string `json:"related,omitempty"`
	RelatedTo string `json:"related_to,omitempty"`
	// AttachmentFiles are the attachments' files in an export
	// (attachments/ID/NAME), for those still stored.
	AttachmentFiles []string `json:"attachment_files,omitempty"`
	// Stanza is the archived XML, byte for byte.
	Stanza string `json:"stanza"`

	seq   int64  // the store's order, the search cursor
	owner string // the store's owner of Archive
	with  string // the store's With: the conversation in the archive
}

// Copy names a message in another archive.
type Copy struct {
	Archive string `json:"archive"`
	ID      string `json:"id"`
}

// Retraction is what a tombstone records.
type Retraction struct {
	Stamp     string `json:"stamp,omitempty"`
	Moderated bool   `json:"moderated,omitempty"`
	By        string `json:"by,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// archivedLimits bound the parse of an archived stanza: stored by the
// server, within its stanza limits.
var archivedLimits = func() xmlstream.Limits {
	l := xmlstream.DefaultLimits()
	l.MaxStanza = 1 << 20
	return l
}()

// fromArchive reads an archived message. domain turns a username (a
// user's archive) into its bare JID. A stanza that does not parse is
// still reported, with its raw bytes.
func fromArchive(f store.FoundMessage, domain string) Message {
	m := Message{Archive: archiveJID(f.Owner, domain), ID: f.ID, Stamp: f.Stamp.UTC(), Stanza: string(f.Stanza),
		seq: f.Seq, owner: f.Owner, with: f.With}
	el, err := xmlstream.Parse(f.Stanza, archivedLimits)
	if err != nil {
		m.Body = f.Text
		return m
	}
	m.From, m.To, m.Type = el.Get("from"), el.Get("to"), el.Get("type")
	m.MessageID = el.Get("id")
	for _, c := range el.Children {
		client := c.Space == stanza.NSClient || c.Space == stanza.NSServer
		switch {
		case c.Name == "origin-id" && c.Space == router.NSStanzaID && c.Get("id") != "":
			m.MessageID = c.Get("id")
		case c.Name == "body" && client && m.Body == "":
			m.Body = c.Text
		case c.Name == "subject" && client && m.Subject == "":
			m.Subject = c.Text
		case c.Name == "thread" && client:
			m.Thread, m.ParentThread = c.Text, c.Get("parent")
		case c.Name == "replace" && c.Space == nsCorrect:
			m.Replaces = c.Get("id")
		case c.Name == "retract" && c.Space == mam.NSRetract:
			m.Retracts = c.Get("id")
		case c.Name == "apply-to" && c.Space == mam.NSFasten && c.Child("retract", mam.NSRetract0) != nil:
			m.Retracts = c.Get("id")
		case c.Name == "retracted" && c.Space == mam.NSRetract:
			m.Retracted = &Retraction{Stamp: c.Get("stamp")}
			if mod := c.Child("moderated", mam.NSModerate); mod != nil {
				m.Retracted.Moderated, m.Retracted.By = true, mod.Get("by")
				m.Retracted.Reason = mod.ChildText("reason", "")
			}
		case c.Name == "x" && c.Space == nsOOB:
			if u := c.ChildText("url", nsOOB); u != "" {
				m.Attachments = append(m.Attachments, u)
			}
		}
	}
	for _, u := range urlsIn(m.Body) {
		if !contains(m.Attachments, u) {
			m.Attachments = append(m.Attachments, u)
		}
	}
	return m
}

// archiveJID is an archive's owner as a JID: a room's JID as it is, a
// username on domain.
func archiveJID(owner, domain string) string {
	if strings.Contains(owner, "@") {
		return owner
	}
	return owner + "@" + domain
}

// urlsIn returns the http(s) URLs in text, as words that parse as URLs.
func urlsIn(text string) []string {
	var out []string
	for _, w := range strings.Fields(text) {
		w = strings.TrimRight(w, ".,;:!?)]>'\"")
		w = strings.TrimLeft(w, "(<['\"")
		if !strings.HasPrefix(w, "https://") && !strings.HasPrefix(w, "http://") {
			continue
		}
		if u, err := url.Parse(w); err == nil && u.Host != "" && !contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// key is what two parties' copies of one 1:1 message share: sender and
// recipient (bare), the sender's id and the body.
func (m Message) key() string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%s", bareOf(m.From), bareOf(m.To), m.MessageID, m.Body)
}

func bareOf(j string) string {
	if i := strings.IndexByte(j, '/'); i >= 0 {
		return j[:i]
	}
	return j
}
