package blocking

import (
	"testing"
	"unicode/utf8"

	"parley/internal/jid"
	"parley/internal/xmlstream"
)

// FuzzReport: whatever a block item holds, the report parsed from it keeps
// within the limits, its text stays valid UTF-8 when the input was, and
// every stanza id it keeps has an id within bounds and a 'by' that is a
// JID.
func FuzzReport(f *testing.F) {
	f.Add([]byte(`<item xmlns='urn:xmpp:blocking' jid='a@b'><report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:spam'>` +
		`<stanza-id xmlns='urn:xmpp:sid:0' by='a@b' id='1'/><text xmlns='urn:xmpp:reporting:1'>spam ☃</text></report></item>`))
	f.Add([]byte(`<item xmlns='urn:xmpp:blocking' jid='a@b'><report xmlns='urn:xmpp:reporting:1' reason='urn:xmpp:reporting:abuse'/></item>`))
	m := New(Options{MaxReportText: 7, MaxReportStanzaIDs: 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlstream.Parse(b, xmlstream.Limits{})
		if err != nil {
			return
		}
		r, ok := m.reportFor(el)
		if !ok {
			return
		}
		if r.Reason != ReasonSpam && r.Reason != ReasonAbuse {
			t.Fatalf("reason %q accepted", r.Reason)
		}
		if len(r.Text) > 7 || len(r.StanzaIDs) > 2 {
			t.Fatalf("over the limits: %d bytes, %d ids", len(r.Text), len(r.StanzaIDs))
		}
		var text string
		if rep := el.Child("report", NSReporting); rep != nil {
			text = rep.ChildText("text", NSReporting)
		}
		if utf8.ValidString(text) && !utf8.ValidString(r.Text) {
			t.Fatalf("text cut inside a character: %q", r.Text)
		}
		for _, s := range r.StanzaIDs {
			if _, err := jid.Parse(s.By); err != nil || s.ID == "" || len(s.ID) > maxStanzaIDBytes {
				t.Fatalf("stanza id %+v kept", s)
			}
		}
	})
}
