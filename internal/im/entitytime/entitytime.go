package entitytime

import (
	"parley/internal/clock"
	"parley/internal/im/serverquery"
	"parley/internal/xmlstream"
)

// NS is the XEP-0202 namespace.
const NS = "urn:xmpp:time"

// Options are the module's dependencies.
type Options struct {
	// Clock is the time source; nil means the system's. Its times'
	// location gives the offset.
	Clock clock.Clock
}

// Module answers time queries: a get of <time/> to the domain (§3), the
// feature advertised (§5). Anything else is answered as serverquery says.
type Module struct{ *serverquery.Module }

// New returns the module.
func New(o Options) *Module {
	c := clock.Or(o.Clock)
	return &Module{serverquery.New(NS, "time", func() *xmlstream.Element {
		now := c.Now()
		return xmlstream.New("time", NS).Add(
			// §3: tzo is ±hh:mm (XEP-0082 TZD), utc a UTC dateTime.
			xmlstream.NewText("tzo", NS, now.Format("-07:00")),
			xmlstream.NewText("utc", NS, now.UTC().Format("2006-01-02T15:04:05Z")),
		)
	})}
}
