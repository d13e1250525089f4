package muc

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"testing"

	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// A tiny PNG (the bytes do not matter to the room, only their hash).
var (
	avatarPNG  = []byte("\x89PNG\r\n\x1a\n fake image bytes for a room avatar")
	avatarB64  = base64.StdEncoding.EncodeToString(avatarPNG)
	avatarSHA1 = func() string { s := sha1.Sum(avatarPNG); return hex.EncodeToString(s[:]) }()
)

func vcardWithPhoto(typ, binval string) string {
	return "<vCard xmlns='vcard-temp'><FN>The Coven</FN><PHOTO><TYPE>" + typ + "</TYPE><BINVAL>" + binval + "</BINVAL></PHOTO></vCard>"
}

func parseEl(t *testing.T, raw string) *xmlstream.Element {
	t.Helper()
	el, err := xmlstream.Parse([]byte(raw), xmlstream.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// TestParseVCard: what an owner may set as a room's vCard (XEP-0486 §3.2,
// XEP-0153 §3.1) and the hashes it yields.
func TestParseVCard(t *testing.T) {
	wrapped := ""
	for i := 0; i < len(avatarB64); i += 20 {
		wrapped += avatarB64[i:min(i+20, len(avatarB64))] + "\n  "
	}
	other := sha1.Sum([]byte("other"))
	tests := []struct {
		vcard  string
		max    int
		hashes []string // nil and no error: the avatar is removed
		err    string   // the stanza error's condition
	}{
		0: {vcard: "<vCard xmlns='vcard-temp'/>"},
		1: {vcard: vcardWithPhoto("image/png", avatarB64), hashes: []string{avatarSHA1}},
		// Clients wrap BINVAL in lines.
		2: {vcard: vcardWithPhoto("image/png", wrapped), hashes: []string{avatarSHA1}},
		3: {vcard: vcardWithPhoto("", avatarB64), err: "bad-request"},
		4: {vcard: "<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><EXTVAL>https://x/a.png</EXTVAL></PHOTO></vCard>", err: "bad-request"},
		5: {vcard: vcardWithPhoto("text/html", avatarB64), err: "not-acceptable"},
		6: {vcard: vcardWithPhoto("image/png", "not base64!"), err: "bad-request"},
		7: {vcard: vcardWithPhoto("image/png", avatarB64), max: 100, err: "policy-violation"},
		// XEP-0486 §5.1: several photos, a hash each.
		8: {vcard: "<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>" + avatarB64 + "</BINVAL></PHOTO>" +
			"<PHOTO><TYPE>image/svg+xml</TYPE><BINVAL>" + base64.StdEncoding.EncodeToString([]byte("other")) + "</BINVAL></PHOTO></vCard>",
			hashes: []string{avatarSHA1, hex.EncodeToString(other[:])}},
		// A vCard without a photo is kept, with no avatar.
		9: {vcard: "<vCard xmlns='vcard-temp'><FN>x</FN></vCard>", hashes: []string{}},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			max := tc.max
			if max == 0 {
				max = DefaultMaxVCardSize
			}
			v, err := parseVCard(parseEl(t, tc.vcard), max)
			if tc.err != "" {
				var se *stanza.Error
				if e, ok := err.(*stanza.Error); ok {
					se = e
				}
				if se == nil || se.Condition() != tc.err {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.hashes == nil {
				if v != nil {
					t.Fatalf("an empty vCard gave %+v, want none", v)
				}
				return
			}
			if v == nil || !slices.Equal(v.hashes, tc.hashes) && !(len(v.hashes) == 0 && len(tc.hashes) == 0) {
				t.Fatalf("hashes %v, want %v", v, tc.hashes)
			}
			if el, err := xmlstream.Parse(slices.Clone(v.raw), xmlstream.Limits{}); err != nil || el.Name != "vCard" || el.Space != NSVCard {
				t.Fatalf("stored bytes %q: %v", v.raw, err)
			}
		})
	}
}

// avatarPresence matches the presence from the room's bare JID with a
// vcard-temp:x:update photo, and returns the hash ("" for an empty one).
func avatarPresence(el *xmlstream.Element) (string, bool) {
	if el.Name != "presence" || el.Get("from") != coven || el.Get("type") != "" {
		return "", false
	}
	x := el.Child("x", NSVCardUpdate)
	if x == nil || x.Child("photo", NSVCardUpdate) == nil {
		return "", false
	}
	return x.ChildText("photo", NSVCardUpdate), true
}

func avatarHashField(t *testing.T, got []*xmlstream.Element) []string {
	t.Helper()
	r := find(got, isIQ("info"))
	q := r.Child("query", NSDiscoInfo)
	if q == nil {
		t.Fatalf("disco#info: %s", dump(got))
	}
	x := q.Child("x", NSData)
	for _, f := range x.Children {
		if f.Get("var") == fieldAvatarHash {
			var out []string
			for _, v := range f.Children {
				out = append(out, v.Text)
			}
			return out
		}
	}
	return nil
}

// setVCard sends a vCard set from full and returns the answer and all
// that full got.
func setVCard(h *harness, full, vcard string) (*xmlstream.Element, []*xmlstream.Element) {
	h.t.Helper()
	got := h.recv(full, "<iq type='set' id='vc' to='"+coven+"'>"+vcard+"</iq>")
	return find(got, isIQ("vc")), got
}

// avatarRules: room avatars (XEP-0486, XEP-0153 applied to a room).
var avatarRules = []rule{
	{"disco_advertises_vcard_temp", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		for _, to := range []string{coven, service} {
			got := h.recv(hag, "<iq type='get' id='info' to='"+to+"'><query xmlns='"+NSDiscoInfo+"'/></iq>")
			if !strings.Contains(dump(got), "var='vcard-temp'") {
				t.Fatalf("disco#info of %s: %s", to, dump(got))
			}
		}
	}},
	{"only_owners_set", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		// An admin is not an owner.
		got := h.recv(crone, "<iq type='set' id='adm' to='"+coven+"'><query xmlns='"+NSAdmin+"'>"+
			"<item affiliation='admin' jid='wiz@example.com'/></query></iq>")
		if r := find(got, isIQ("adm")); r.Get("type") != "result" {
			t.Fatalf("making wiz admin: %s", dump(got))
		}
		h.join(wiz, "coven", "wizard")
		for _, who := range []string{wiz, hag} {
			if r, _ := setVCard(h, who, vcardWithPhoto("image/png", avatarB64)); errorOf(r) != "forbidden" {
				t.Fatalf("set by %s: %s", who, r)
			}
		}
		got = h.recv(hag, "<iq type='get' id='g' to='"+coven+"'><vCard xmlns='vcard-temp'/></iq>")
		if errorOf(find(got, isIQ("g"))) != "item-not-found" {
			t.Fatalf("get of a room without a vCard: %s", dump(got))
		}
		// Its owner reads an empty one, as a user reads their own.
		got = h.recv(crone, "<iq type='get' id='g' to='"+coven+"'><vCard xmlns='vcard-temp'/></iq>")
		if r := find(got, isIQ("g")); r.Get("type") != "result" || r.Child("vCard", NSVCard) == nil ||
			len(r.Child("vCard", NSVCard).Children) != 0 {
			t.Fatalf("the owner's get of a room without a vCard: %s", dump(got))
		}
	}},
	{"owner_sets_everyone_sees", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		h.join(wiz, "coven", "wizard")
		h.user(wiz).take()
		r, crones := setVCard(h, crone, vcardWithPhoto("image/png", avatarB64))
		if r.Get("type") != "result" {
			t.Fatalf("owner's set: %s", r)
		}
		// Occupants: the new hash from the room, then status 104.
		for _, who := range []string{crone, wiz} {
			got := crones
			if who == wiz {
				got = h.user(wiz).take()
			}
			var hash string
			var ok bool
			for _, el := range got {
				if hash, ok = avatarPresence(el); ok {
					break
				}
			}
			if !ok || hash != avatarSHA1 {
				t.Fatalf("%s: no avatar presence with %s: %s", who, avatarSHA1, dump(got))
			}
			if m := find(got, from("message", coven)); !hasCodes(m, codeConfigChange) {
				t.Fatalf("%s: no 104: %s", who, dump(got))
			}
		}
		// A non-occupant fetches it; the bytes are the owner's.
		got := h.recv(hag, "<iq type='get' id='g' to='"+coven+"'><vCard xmlns='vcard-temp'/></iq>")
		v := find(got, isIQ("g")).Child("vCard", NSVCard)
		if v == nil || strings.Join(strings.Fields(v.Child("PHOTO", NSVCard).ChildText("BINVAL", NSVCard)), "") != avatarB64 {
			t.Fatalf("get: %s", dump(got))
		}
		got = h.recv(hag, "<iq type='get' id='info' to='"+coven+"'><query xmlns='"+NSDiscoInfo+"'/></iq>")
		if hs := avatarHashField(t, got); !slices.Equal(hs, []string{avatarSHA1}) {
			t.Fatalf("muc#roominfo_avatarhash = %v in %s", hs, dump(got))
		}
		// A joiner gets the avatar from the room before anyone's presence.
		got = h.join(hag, "coven", "hag")
		if hash, ok := avatarPresence(got[0]); !ok || hash != avatarSHA1 {
			t.Fatalf("join: the first stanza is not the avatar: %s", dump(got))
		}
	}},
	{"empty_vcard_removes", func(t *testing.T, h *harness) {
		h.create(crone, "coven", "firstwitch")
		setVCard(h, crone, vcardWithPhoto("image/png", avatarB64))
		r, got := setVCard(h, crone, "<vCard xmlns='vcard-temp'/>")
		if r.Get("type") != "result" {
			t.Fatalf("removal: %s", r)
		}
		var hash string
		ok := false
		for _, el := range got {
			if hash, ok = avatarPresence(el); ok {
				break
			}
		}
		if !ok || hash != "" {
			t.Fatalf("removal not announced with an empty photo: %s", dump(got))
		}
		got = h.recv(hag, "<iq type='get' id='g' to='"+coven+"'><vCard xmlns='vcard-temp'/></iq>")
		if errorOf(find(got, isIQ("g"))) != "item-not-found" {
			t.Fatalf("get after removal: %s", dump(got))
		}
		got = h.recv(hag, "<iq type='get' id='info' to='"+coven+"'><query xmlns='"+NSDiscoInfo+"'/></iq>")
		if hs := avatarHashField(t, got); hs != nil {
			t.Fatalf("avatarhash after removal: %v", hs)
		}
		got = h.join(hag, "coven", "hag")
		for _, el := range got {
			if _, ok := avatarPresence(el); ok {
				t.Fatalf("a joiner of a room without an avatar got one: %s", dump(got))
			}
		}
	}},
	{"locked_room_hidden", func(t *testing.T, h *harness) {
		h.join(crone, "coven", "firstwitch") // created, locked
		if r, _ := setVCard(h, crone, vcardWithPhoto("image/png", avatarB64)); r.Get("type") != "result" {
			t.Fatalf("owner's set in a locked room: %s", r)
		}
		got := h.recv(hag, "<iq type='get' id='g' to='"+coven+"'><vCard xmlns='vcard-temp'/></iq>")
		if errorOf(find(got, isIQ("g"))) != "item-not-found" {
			t.Fatalf("get of a locked room: %s", dump(got))
		}
	}},
	{"persistent_room_keeps_it", func(t *testing.T, h *harness) {
		// Set while temporary, then made persistent: stored then.
		h.create(crone, "coven", "firstwitch")
		setVCard(h, crone, vcardWithPhoto("image/png", avatarB64))
		h.configure(crone, "coven", "persistentroom=1")
		h2 := newHarnessOn(t, h.st)
		got := h2.recv(hag, "<iq type='get' id='info' to='"+coven+"'><query xmlns='"+NSDiscoInfo+"'/></iq>")
		if hs := avatarHashField(t, got); !slices.Equal(hs, []string{avatarSHA1}) {
			t.Fatalf("avatarhash after a reload: %v in %s", hs, dump(got))
		}
		// Removed in the store too.
		if r, _ := setVCard(h2, crone, "<vCard xmlns='vcard-temp'/>"); r.Get("type") != "result" {
			t.Fatalf("removal: %s", r)
		}
		h3 := newHarnessOn(t, h.st)
		got = h3.recv(hag, "<iq type='get' id='g' to='"+coven+"'><vCard xmlns='vcard-temp'/></iq>")
		if errorOf(find(got, isIQ("g"))) != "item-not-found" {
			t.Fatalf("get after removal and reload: %s", dump(got))
		}
	}},
}

func TestAvatarRules(t *testing.T) { runRules(t, avatarRules) }
