package vcard_test

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"parley/internal/store"
	"parley/internal/xmlstream"
	"parley/internal/xmpptest"
	"parley/internal/xmpptest/testserver"
)

const pass = "vcard pass 1"

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// TestAvatarConversionOverTCP: XEP-0398. An avatar published with
// XEP-0084 becomes the vcard-temp PHOTO (§3.1; a data item that does not
// hash to its id is not taken; metadata without info removes the photo);
// a vCard set with a PHOTO is published as the XEP-0084 data and
// metadata (§3.2); available presence carries the photo's hash unless
// the client sent a <photo/> itself (§4); the account advertises the
// conversion (§2).
func TestAvatarConversionOverTCP(t *testing.T) {
	srv := testserver.Start(t, nil)
	srv.AddUsers(t, pass, "romeo", "juliet")
	for _, p := range [][2]string{{"romeo", "juliet@localhost"}, {"juliet", "romeo@localhost"}} {
		if _, err := srv.Store().PutRosterItem(t.Context(), p[0], store.RosterItem{JID: p[1], Subscription: store.SubBoth}); err != nil {
			t.Fatal(err)
		}
	}
	romeo := srv.Online(t, "romeo", pass, "garden")
	juliet := srv.Online(t, "juliet", pass, "balcony")
	if err := juliet.SendPresence(); err != nil {
		t.Fatal(err)
	}
	call := func(c *xmpptest.Client, typ, to, payload string) *xmlstream.Element {
		t.Helper()
		res, err := c.IQ(10*time.Second, typ, to, payload)
		if err != nil || res.Get("type") != "result" {
			t.Fatalf("%s %s: %v %s", typ, payload, err, res)
		}
		return res
	}
	if s := call(romeo, "get", "", `<query xmlns='http://jabber.org/protocol/disco#info'/>`).String(); !strings.Contains(s, "urn:xmpp:pep-vcard-conversion:0") {
		t.Fatalf("conversion not advertised: %s", s)
	}
	publish := func(node, id, payload string) {
		t.Helper()
		call(romeo, "set", "", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='`+node+`'><item id='`+id+`'>`+payload+`</item></publish></pubsub>`)
	}
	photoOf := func() (string, string) {
		t.Helper()
		vc := call(juliet, "get", "romeo@localhost", `<vCard xmlns='vcard-temp'/>`).Child("vCard", "vcard-temp")
		p := vc.Child("PHOTO", "vcard-temp")
		if p == nil {
			return "", ""
		}
		return p.ChildText("TYPE", "vcard-temp"), p.ChildText("BINVAL", "vcard-temp")
	}
	call(romeo, "set", "", `<vCard xmlns='vcard-temp'><FN>Romeo Montague</FN></vCard>`)

	// §3.1: PEP to vCard (XEP-0084 §4.1-4.2's publishes).
	img := []byte("\x89PNG first image")
	id := sha1Hex(img)
	b64 := base64.StdEncoding.EncodeToString(img)
	publish("urn:xmpp:avatar:data", id, `<data xmlns='urn:xmpp:avatar:data'>`+b64+`</data>`)
	publish("urn:xmpp:avatar:metadata", id, `<metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='`+
		itoa(len(img))+`' id='`+id+`' type='image/png'/><info bytes='1' id='x' type='image/png' url='http://example.org/a.png'/></metadata>`)
	if typ, bin := photoOf(); typ != "image/png" || bin != b64 {
		t.Fatalf("vCard photo after the avatar: %q %q", typ, bin)
	}
	vc := call(juliet, "get", "romeo@localhost", `<vCard xmlns='vcard-temp'/>`).String()
	if !strings.Contains(vc, "<FN>Romeo Montague</FN>") {
		t.Fatalf("the rest of the vCard is kept: %s", vc)
	}

	// §4: presence carries the hash; a client's empty <photo/> is kept.
	if err := romeo.Send(`<presence><status>avatar</status></presence>`); err != nil {
		t.Fatal(err)
	}
	pres, err := juliet.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "presence" && strings.Contains(el.String(), "<status>avatar</status>")
	})
	if err != nil || pres.Child("x", "vcard-temp:x:update") == nil || pres.Child("x", "vcard-temp:x:update").ChildText("photo", "vcard-temp:x:update") != id {
		t.Fatalf("presence without the hash: %v %s", err, pres)
	}
	if err := romeo.Send(`<presence><show>away</show><x xmlns='vcard-temp:x:update'><photo/></x></presence>`); err != nil {
		t.Fatal(err)
	}
	pres, err = juliet.Expect(10*time.Second, func(el *xmlstream.Element) bool {
		return el.Name == "presence" && strings.Contains(el.String(), "<show>away</show>")
	})
	if err != nil || !strings.Contains(pres.String(), "<photo/>") || strings.Contains(pres.String(), id) {
		t.Fatalf("an empty photo overwritten: %v %s", err, pres)
	}

	// A data item that does not hash to its id is not taken.
	publish("urn:xmpp:avatar:data", "0000000000000000000000000000000000000000", `<data xmlns='urn:xmpp:avatar:data'>`+b64+`</data>`)
	publish("urn:xmpp:avatar:metadata", "0000000000000000000000000000000000000000", `<metadata xmlns='urn:xmpp:avatar:metadata'><info bytes='3' id='0000000000000000000000000000000000000000' type='image/gif'/></metadata>`)
	if typ, _ := photoOf(); typ != "image/png" {
		t.Fatalf("a forged avatar was taken: %q", typ)
	}

	// §3.2: vCard to PEP.
	img2 := []byte("GIF89a second image")
	id2 := sha1Hex(img2)
	b642 := base64.StdEncoding.EncodeToString(img2)
	call(romeo, "set", "", `<vCard xmlns='vcard-temp'><FN>Romeo Montague</FN><PHOTO><TYPE>image/gif</TYPE><BINVAL>`+b642+`</BINVAL></PHOTO></vCard>`)
	meta := call(juliet, "get", "romeo@localhost", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:metadata' max_items='1'/></pubsub>`).String()
	if !strings.Contains(meta, "<item id='"+id2+"'>") || !strings.Contains(meta, "id='"+id2+"' type='image/gif'") || !strings.Contains(meta, "bytes='"+itoa(len(img2))+"'") {
		t.Fatalf("metadata from the vCard: %s", meta)
	}
	data := call(juliet, "get", "romeo@localhost", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'><item id='`+id2+`'/></items></pubsub>`).String()
	if !strings.Contains(data, ">"+b642+"</data>") {
		t.Fatalf("data from the vCard: %s", data)
	}

	// XEP-0084 §4.5: metadata without info turns the avatar off.
	publish("urn:xmpp:avatar:metadata", "off", `<metadata xmlns='urn:xmpp:avatar:metadata'/>`)
	if typ, bin := photoOf(); typ != "" || bin != "" {
		t.Fatalf("photo after the avatar was turned off: %q %q", typ, bin)
	}
}

func itoa(n int) string {
	s := ""
	for {
		s = string(rune('0'+n%10)) + s
		if n /= 10; n == 0 {
			return s
		}
	}
}
