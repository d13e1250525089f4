package contact

import (
	"parley/internal/dataform"
	"parley/internal/router"
	"parley/internal/xmlstream"
)

// FormType names the form (XEP-0157 §3, XEP-0128).
const FormType = "http://jabber.org/network/serverinfo"

// Addresses are the URIs of one kind of contact.
type Addresses struct {
	Kind string // abuse, admin, feedback, sales, security or support
	URIs []string
}

// Disco takes the form; *disco.Module has it.
type Disco interface {
	AddServerForm(x *xmlstream.Element)
}

// Options are the module's configuration.
type Options struct {
	Addresses []Addresses
	Disco     Disco
}

// Module publishes the addresses.
type Module struct{ o Options }

// New returns the module.
func New(o Options) *Module { return &Module{o: o} }

// Register adds the form to the domain's disco#info.
func (m *Module) Register(*router.Router) {
	if x := Form(m.o.Addresses); x != nil {
		m.o.Disco.AddServerForm(x)
	}
}

// Form builds the serverinfo form (§3), or nil without addresses.
func Form(addrs []Addresses) *xmlstream.Element {
	var fields []dataform.Field
	for _, a := range addrs {
		if len(a.URIs) > 0 {
			// As §3's example: the registered fields (§5) without their
			// type, which a result form need not repeat.
			fields = append(fields, dataform.NewField(a.Kind+"-addresses", "", "", a.URIs...))
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return dataform.New(dataform.TypeResult, FormType, fields...).Element()
}
