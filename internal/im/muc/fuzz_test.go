package muc

import (
	"strings"
	"testing"

	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// FuzzConfigForm feeds arbitrary data forms to the configuration parser:
// it must not panic, and a configuration it accepts must survive its own
// form (form -> submit -> apply gives the same configuration).
func FuzzConfigForm(f *testing.F) {
	f.Add([]byte(form("")))
	f.Add([]byte(form("persistentroom=1", "roomname=x", "maxusers=20", "whois=anyone")))
	f.Add([]byte(form("passwordprotectedroom=1", "roomsecret=s", "allowpm=none")))
	f.Add([]byte(form("allowvoicerequests=0", "voicerequestmininterval=0")))
	f.Add([]byte("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>" + NSRoomConfig +
		"</value></field><field var='muc#roomconfig_maxusers'><value>1</value><value>2</value></field></x>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlstream.ParseIn(b, xmlstream.Limits{MaxStanza: 1 << 16, MaxDepth: 8}, xmlstream.NewScope(stanza.NSClient))
		if err != nil {
			return
		}
		cfg, serr := DefaultConfig().apply(el)
		if serr != nil {
			return
		}
		submit := cfg.form()
		submit.Attr[0].Value = "submit"
		again, serr := DefaultConfig().apply(submit)
		if serr != nil {
			t.Fatalf("own form refused: %v\n%s", serr, submit)
		}
		if again != cfg {
			t.Fatalf("round trip changed the config:\n%+v\n%+v", cfg, again)
		}
	})
}

// parseForm parses fuzz input as a data form element.
func parseForm(b []byte) *xmlstream.Element {
	el, err := xmlstream.ParseIn(b, xmlstream.Limits{MaxStanza: 1 << 16, MaxDepth: 8}, xmlstream.NewScope(stanza.NSClient))
	if err != nil {
		return nil
	}
	return el
}

// asSubmit turns a form the room sends into the client's submission.
func asSubmit(x *xmlstream.Element) *xmlstream.Element {
	for i, a := range x.Attr {
		if a.Name == "type" {
			x.Attr[i].Value = "submit"
		}
	}
	return x
}

// FuzzVoiceForm feeds arbitrary forms to the muc#request parser: no
// panic, and an answer it accepts survives the approval form the room
// sends (form -> submit -> parse gives the same answer).
func FuzzVoiceForm(f *testing.F) {
	inner := func(msg string) []byte {
		el := parseForm([]byte(msg))
		return []byte(el.Child("x", NSData).String())
	}
	f.Add(inner(askVoice))
	f.Add(inner(answer("wizard", wiz, "true")))
	f.Add(inner(requestForm("submit", NSRequest, "muc#roomnick=wizard", "muc#request_allow=0")))
	f.Add(inner(requestForm("submit", NSRequest, "muc#role=participant", "muc#role=moderator")))
	f.Fuzz(func(t *testing.T, b []byte) {
		el := parseForm(b)
		if el == nil {
			return
		}
		v, err := parseVoiceForm(el)
		if err != nil || !v.answer {
			return
		}
		again, err := parseVoiceForm(asSubmit(approvalForm(v.jid, v.nick, v.allow)))
		if err != nil || again != v {
			t.Fatalf("round trip: %+v -> %+v, %v", v, again, err)
		}
	})
}

// FuzzRegisterForm feeds arbitrary forms to the muc#register parser: no
// panic, and a nickname it accepts survives the registration form.
func FuzzRegisterForm(f *testing.F) {
	f.Add([]byte(regForm("thirdwitch")))
	f.Add([]byte(regForm("  Third  Witch ")))
	f.Add([]byte(regForm("")))
	f.Add([]byte(strings.Replace(regForm("a"), "<value>a</value>", "<value>a</value><value>b</value>", 1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		el := parseForm(b)
		if el == nil {
			return
		}
		nick, err := parseRegisterForm(el)
		if err != nil {
			return
		}
		again, err := parseRegisterForm(asSubmit(registerForm(nick)))
		if err != nil || again != nick {
			t.Fatalf("round trip: %q -> %q, %v", nick, again, err)
		}
	})
}

// FuzzParseVCard feeds arbitrary vCards to what an owner's set goes
// through: no panic, and one it accepts reads back from its stored bytes
// with the same hashes (what a restart does, loadVCard).
func FuzzParseVCard(f *testing.F) {
	f.Add([]byte(vcardWithPhoto("image/png", avatarB64)))
	f.Add([]byte("<vCard xmlns='vcard-temp'/>"))
	f.Add([]byte("<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>aGk=\n aGk=</BINVAL></PHOTO><PHOTO/></vCard>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		el, err := xmlstream.ParseIn(b, xmlstream.Limits{MaxStanza: 1 << 16, MaxDepth: 8}, xmlstream.NewScope(stanza.NSClient))
		if err != nil {
			return
		}
		v, err := parseVCard(el, DefaultMaxVCardSize)
		if err != nil || v == nil {
			return
		}
		stored, err := xmlstream.Parse(append([]byte(nil), v.raw...), xmlstream.Limits{})
		if err != nil {
			t.Fatalf("stored bytes do not parse: %v\n%q", err, v.raw)
		}
		again, err := parseVCard(stored, len(v.raw)+1)
		if err != nil || again == nil || strings.Join(again.hashes, ",") != strings.Join(v.hashes, ",") {
			t.Fatalf("read back: %+v, %v; want hashes %v", again, err, v.hashes)
		}
	})
}
