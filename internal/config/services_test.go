package config

import (
	"testing"
)

// TestValidateServices: [[external_services]] (XEP-0215) and [contact]
// (XEP-0157) are checked key by key.
func TestValidateServices(t *testing.T) {
	turn := ExternalService{Type: "turn", Host: "turn.example.com", Port: 3478, Secret: "s"}
	checkValidate(t, []validateCase{
		0: {mod: func(c *Config) {
			c.ExternalServices = []ExternalService{turn, {Type: "stun", Host: "192.0.2.1", Port: 3478, Transport: "udp"}}
			c.Contact = Contact{Abuse: []string{"mailto:abuse@example.com"}, Admin: []string{"xmpp:admin@example.com"}, Support: []string{"https://example.com/help"}}
		}},
		1: {mod: func(c *Config) {
			c.ExternalServices = []ExternalService{{Type: "ftp", Host: "", Port: 0, Transport: "sctp"}}
		}, want: []string{`external_services[0].type: "ftp"`, `external_services[0].host: ""`, `external_services[0].port: 0`, `external_services[0].transport: "sctp"`}},
		2: {mod: func(c *Config) {
			c.ExternalServices = []ExternalService{turn, {Type: "stun", Host: "stun.example.com", Port: 70000, Secret: "x"}}
		}, want: []string{`external_services[1].port: 70000`, `external_services[1].secret: credentials are given for turn and turns only`}},
		3: {mod: func(c *Config) { c.Contact.Security = []string{"security@example.com"} },
			want: []string{`contact.security: "security@example.com" is not a URI`}},
		4: {mod: func(c *Config) { c.Admins = []string{"boss@localhost"} }},
		5: {mod: func(c *Config) { c.Admins = []string{"boss@localhost/desk", "boss@other.org", "localhost"} },
			want: []string{`admins[0]: "boss@localhost/desk"`, `admins[1]: "boss@other.org"`, `admins[2]: "localhost"`}},
	})
	if got := (ExternalService{Type: "turns"}).DefaultTransport(); got != "tcp" {
		t.Errorf("turns transport %q", got)
	}
	if got := (ExternalService{Type: "stun"}).DefaultTransport(); got != "udp" {
		t.Errorf("stun transport %q", got)
	}
}
