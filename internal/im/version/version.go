package version

import (
	"parley/internal/im/serverquery"
	"parley/internal/xmlstream"
)

// NS is the XEP-0092 namespace.
const NS = "jabber:iq:version"

// Name is the software name the server reports.
const Name = "parley"

// Module answers for one domain with one build version: a get of <query/>
// to the domain (XEP-0092 §2), the feature advertised (§4). Anything else
// is answered as serverquery says.
type Module struct{ *serverquery.Module }

// Options configure the module.
type Options struct {
	// Version is the build version (e.g. from debug.ReadBuildInfo or
	// -ldflags), reported as given.
	Version string
}

// New returns the module; install it with Register.
func New(o Options) *Module {
	return &Module{serverquery.New(NS, "query", func() *xmlstream.Element {
		// No <os/>: see the package comment.
		return xmlstream.New("query", NS).Add(
			xmlstream.NewText("name", NS, Name),
			xmlstream.NewText("version", NS, o.Version),
		)
	})}
}
