package contact

import (
	"testing"

	"parley/internal/xmlstream"
)

// TestForm builds XEP-0157 §3's example form (kinds without addresses
// left out) and none at all without addresses.
func TestForm(t *testing.T) {
	x := Form([]Addresses{
		{"abuse", []string{"mailto:abuse@shakespeare.lit", "xmpp:abuse@shakespeare.lit"}},
		{"admin", []string{"mailto:xmpp@shakespeare.lit", "xmpp:admins@shakespeare.lit"}},
		{"feedback", nil},
		{"security", []string{"xmpp:security@shakespeare.lit"}},
	})
	const want = `<x xmlns='jabber:x:data' type='result'>` +
		`<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/network/serverinfo</value></field>` +
		`<field var='abuse-addresses'><value>mailto:abuse@shakespeare.lit</value><value>xmpp:abuse@shakespeare.lit</value></field>` +
		`<field var='admin-addresses'><value>mailto:xmpp@shakespeare.lit</value><value>xmpp:admins@shakespeare.lit</value></field>` +
		`<field var='security-addresses'><value>xmpp:security@shakespeare.lit</value></field></x>`
	if got := string(xmlstream.Append(nil, x)); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if Form([]Addresses{{"abuse", nil}}) != nil {
		t.Fatal("a form without addresses")
	}
}
