package muc

import (
	"bytes"
	"strconv"
	"testing"

	"parley/internal/jid"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// TestAddressedIsSetAttr: a delivery's bytes, 'to' spliced after the
// element name from the offset kept by the template, are what
// xmlstream.SetAttr makes of the template, for every kind of template a
// room builds (one that already has a 'to' gets it replaced), and for
// recipients whose resource needs escaping; every one parses.
func TestAddressedIsSetAttr(t *testing.T) {
	room := jid.MustParse("big@conference.example.com/nick")
	templates := []*template{
		build(stanza.Message, room, "groupchat", "m1", &xmlstream.Element{Name: "body", Space: stanza.NSClient, Text: "hi & <bye> é"}),
		build(stanza.Presence, room, "", "", xmlstream.New("x", NSUser)),
		build(stanza.IQ, room, "result", "q"),
		build(stanza.Message, room, "", ""),
		// an error built from what a user sent keeps its 'to' (replaced)
		newTemplate(stanza.Message, room, "error", "e", &xmlstream.Element{Name: "message", Space: stanza.NSClient,
			Attr: []xmlstream.Attr{{Name: "to", Value: "x@example.com"}, {Name: "from", Value: room.String()}}}),
	}
	tos := []string{"u1@example.com/r", "u2@example.com", "u3@example.com/it's <me> & \"you\"", "u4@example.com/café"}
	for i, tpl := range templates {
		for j, to := range tos {
			t.Run(strconv.Itoa(i)+"/"+strconv.Itoa(j), func(t *testing.T) {
				if (tpl.nameEnd == 0) != hasAttr(tpl.el, "to") {
					t.Fatalf("template %s: name offset %d", tpl.el.Raw, tpl.nameEnd)
				}
				want := xmlstream.SetAttr(tpl.el.Raw, "to", to)
				if got := tpl.addressed(to); !bytes.Equal(got, want) {
					t.Errorf("addressed(%q) = %s, want %s", to, got, want)
				}
				st := tpl.stanza(jid.MustParse(to))
				if _, err := xmlstream.ParseIn(st.El.Raw, xmlstream.Limits{}, xmlstream.NewScope(stanza.NSClient)); err != nil {
					t.Errorf("%s does not parse: %v", st.El.Raw, err)
				}
			})
		}
	}
}

// BenchmarkAddressed is one recipient's bytes of a room message: the
// splice at the template's name offset against xmlstream.SetAttr, which
// scans the start tag for every recipient (what a delivery did before).
//
//	go test -run '^$' -bench Addressed -count 5 ./internal/im/muc
func BenchmarkAddressed(b *testing.B) {
	room := jid.MustParse("big@conference.example.com/nick")
	tpl := build(stanza.Message, room, "groupchat", "06h3emlj0t9adedp",
		&xmlstream.Element{Name: "body", Space: stanza.NSClient, Text: "The quick brown fox jumps over the lazy dog"})
	to := "u123@example.com/phone-4f2a"
	b.Run("splice", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			tpl.addressed(to)
		}
	})
	b.Run("SetAttr", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			xmlstream.SetAttr(tpl.el.Raw, "to", to)
		}
	})
}
