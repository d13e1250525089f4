package config

import (
	"fmt"

	"parley/internal/jid"
)

// DefaultComponentListen is where external components connect: loopback,
// since XEP-0114 streams are not encrypted.
const DefaultComponentListen = "127.0.0.1:5347"

// minComponentSecret is the shortest shared secret accepted: the
// handshake sends SHA-1(stream id + secret), which an eavesdropper can
// attack offline.
const minComponentSecret = 16

// Component is an external component (XEP-0114), written [[component]]:
// a gateway or bot that connects to [listen] component and serves a
// domain of its own.
type Component struct {
	// Domain is the component's address, e.g. "gateway.example.com";
	// it becomes a disco item of the server.
	Domain string `toml:"domain"`
	// Secret is shared with the component, at least 16 characters.
	Secret string `toml:"secret"`
}

// builtinServices are the subdomains parley serves itself.
var builtinServices = []string{"conference", "upload", "pubsub", "proxy"}

func validateComponents(cs []Component, domain, listen string) []error {
	var errs []error
	seen := make(map[string]bool)
	for i, c := range cs {
		bad := func(msg string) {
			errs = append(errs, &KeyError{Key: fmt.Sprintf("component[%d]", i), Msg: msg})
		}
		j, err := jid.Parse(c.Domain)
		switch {
		case err != nil || !j.IsDomain() || j.String() != c.Domain:
			bad(fmt.Sprintf("domain %q is not a domain in canonical form", c.Domain))
		case c.Domain == domain:
			bad("domain is the server's own domain")
		case seen[c.Domain]:
			bad(fmt.Sprintf("domain %q is used twice", c.Domain))
		}
		for _, s := range builtinServices {
			if c.Domain == s+"."+domain {
				bad(fmt.Sprintf("domain %q is served by parley itself", c.Domain))
			}
		}
		seen[c.Domain] = true
		if len(c.Secret) < minComponentSecret {
			bad(fmt.Sprintf("secret must be at least %d characters", minComponentSecret))
		}
	}
	if len(cs) > 0 && listen != Off && listen != "" && !IsLoopback(listen) {
		errs = append(errs, &KeyError{Key: "listen.component",
			Msg: fmt.Sprintf("%q is not a loopback address: component streams (XEP-0114) are not encrypted; run components on this host or through a tunnel", listen)})
	}
	return errs
}
