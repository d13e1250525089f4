package muc_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"parley/internal/config"
	"parley/internal/im/muc"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

// roomAvatar matches the presence from the room's bare JID carrying a
// vcard-temp:x:update photo hash (XEP-0153 §3.1, XEP-0486 §5.2).
func roomAvatar(hash string) func(*xmlstream.Element) bool {
	return func(el *xmlstream.Element) bool {
		x := el.Child("x", muc.NSVCardUpdate)
		return el.Name == "presence" && el.Get("from") == room && x != nil &&
			x.Child("photo", muc.NSVCardUpdate) != nil && x.ChildText("photo", muc.NSVCardUpdate) == hash
	}
}

// fetchRoomPhoto gets the room's vCard and returns its decoded PHOTO.
func fetchRoomPhoto(t *testing.T, c *xmpptest.Client) []byte {
	t.Helper()
	res, err := c.IQ(wait, "get", room, "<vCard xmlns='vcard-temp'/>")
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("%s: room vCard: %v %v", c.JID, res, err)
	}
	v := res.Child("vCard", muc.NSVCard)
	if v == nil || v.Child("PHOTO", muc.NSVCard) == nil {
		t.Fatalf("%s: no PHOTO in %s", c.JID, res)
	}
	b64 := strings.Join(strings.Fields(v.Child("PHOTO", muc.NSVCard).ChildText("BINVAL", muc.NSVCard)), "")
	img, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("%s: BINVAL: %v", c.JID, err)
	}
	return img
}

// TestRoomAvatarOverTCP: an owner sets a persistent room's avatar
// (vcard-temp to the room, XEP-0486 §3.2); a member may not; occupants
// are told by a presence from the room with the photo's SHA-1 and by
// status 104; someone outside fetches the vCard and sees the hash in
// disco#info; a joiner gets the hash; all of it again after a restart.
func TestRoomAvatarOverTCP(t *testing.T) {
	srv := start(t, nil, "alice", "bob", "carol", "dave")
	alice, bob, carol := dial(t, srv, "alice"), dial(t, srv, "bob"), dial(t, srv, "carol")
	persistentRoom(t, alice, "alice")
	enter(t, bob, "bob")

	img := bytes.Repeat([]byte("\x89PNG room avatar "), 200) // 3.4 KB, BINVAL wrapped in lines
	sum := sha1.Sum(img)
	hash := hex.EncodeToString(sum[:])
	var b64 strings.Builder
	enc := base64.StdEncoding.EncodeToString(img)
	for i := 0; i < len(enc); i += 76 {
		b64.WriteString(enc[i:min(i+76, len(enc))] + "\n")
	}
	vcard := "<vCard xmlns='vcard-temp'><FN>Coven</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>" + b64.String() + "</BINVAL></PHOTO></vCard>"

	res, err := bob.IQ(wait, "set", room, vcard)
	if err != nil || xmpptest.StanzaErrorCondition(res) != "forbidden" {
		t.Fatalf("a participant's set: %v %v", res, err)
	}
	res, err = alice.IQ(wait, "set", room, vcard)
	if err != nil || res.Get("type") != "result" {
		t.Fatalf("the owner's set: %v %v", res, err)
	}
	for _, c := range []*xmpptest.Client{alice, bob} {
		expect(t, c, "the room's avatar presence", roomAvatar(hash))
		expect(t, c, "status 104", func(el *xmlstream.Element) bool {
			x := el.Child("x", muc.NSUser)
			return el.Name == "message" && el.Get("from") == room && x != nil && strings.Contains(x.String(), "code='104'")
		})
	}
	if got := fetchRoomPhoto(t, carol); !bytes.Equal(got, img) {
		t.Fatalf("carol's copy of the photo differs (%d bytes, want %d)", len(got), len(img))
	}
	info := func(c *xmpptest.Client) string {
		t.Helper()
		res, err := c.IQ(wait, "get", room, "<query xmlns='"+muc.NSDiscoInfo+"'/>")
		if err != nil || res.Get("type") != "result" {
			t.Fatalf("disco#info: %v %v", res, err)
		}
		return res.String()
	}
	if s := info(carol); !strings.Contains(s, "var='vcard-temp'") || !strings.Contains(s, "muc#roominfo_avatarhash") ||
		!strings.Contains(s, hash) {
		t.Fatalf("disco#info without vcard-temp and the avatar hash: %s", s)
	}
	enter(t, carol, "carol")
	expect(t, carol, "the avatar on join", roomAvatar(hash))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	data := srv.Config.Data
	srv2 := testserver.Start(t, func(c *config.Config) { c.Data = data })
	dave := dial(t, srv2, "dave")
	if got := fetchRoomPhoto(t, dave); !bytes.Equal(got, img) {
		t.Fatalf("after a restart the photo differs (%d bytes, want %d)", len(got), len(img))
	}
	if s := info(dave); !strings.Contains(s, hash) {
		t.Fatalf("disco#info after a restart: %s", s)
	}
	enter(t, dave, "dave")
	expect(t, dave, "the avatar on join after a restart", roomAvatar(hash))
}

// TestRoomAvatarLimitOverTCP: [muc] max_vcard_size bounds what an owner
// may set (policy-violation beyond it), and nothing is kept.
func TestRoomAvatarLimitOverTCP(t *testing.T) {
	srv := testserver.Start(t, func(c *config.Config) { c.MUC.MaxVCardSize = 1024 })
	srv.AddUser(t, "alice", password)
	alice := dial(t, srv, "alice")
	persistentRoom(t, alice, "alice")
	big := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 1024))
	res, err := alice.IQ(wait, "set", room, "<vCard xmlns='vcard-temp'><PHOTO><TYPE>image/png</TYPE><BINVAL>"+big+"</BINVAL></PHOTO></vCard>")
	if err != nil || xmpptest.StanzaErrorCondition(res) != "policy-violation" {
		t.Fatalf("an oversized vCard: %v %v", res, err)
	}
	// Its owner reads an empty vCard: nothing was kept.
	res, err = alice.IQ(wait, "get", room, "<vCard xmlns='vcard-temp'/>")
	if err != nil || res.Get("type") != "result" || len(res.Child("vCard", muc.NSVCard).Children) != 0 {
		t.Fatalf("the refused vCard was kept: %v %v", res, err)
	}
}
