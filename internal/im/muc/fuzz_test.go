package muc

import (
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
