package xmlstream

// XMLSpace is the namespace bound to the predefined prefix "xml".
const XMLSpace = "http://www.w3.org/XML/1998/namespace"

type binding struct{ prefix, uri string }

// Scope is the set of namespace declarations in force where a fragment
// starts. A Reader builds one from the stream header so that stanzas
// inherit its default namespace ("jabber:client") and prefixes ("stream").
// The zero Scope (or a nil *Scope) has no default namespace and only the
// predefined "xml" prefix.
type Scope struct {
	// Later bindings shadow earlier ones; prefix "" is the default namespace.
	bindings []binding
}

// NewScope returns a scope whose default namespace is space.
func NewScope(space string) *Scope {
	s := &Scope{}
	if space != "" {
		s.Bind("", space)
	}
	return s
}

// Bind declares prefix (or, for "", the default namespace) as uri.
func (s *Scope) Bind(prefix, uri string) {
	s.bindings = append(s.bindings, binding{prefix, uri})
}

// Lookup resolves prefix ("" for the default namespace).
func (s *Scope) Lookup(prefix string) (string, bool) {
	if s == nil {
		return lookup(nil, prefix)
	}
	return lookup(s.bindings, prefix)
}

// lookup resolves prefix in bindings, innermost last; "xml" and the
// empty default namespace are bound without a declaration.
func lookup(bindings []binding, prefix string) (string, bool) {
	for i := len(bindings) - 1; i >= 0; i-- {
		if bindings[i].prefix == prefix {
			return bindings[i].uri, true
		}
	}
	switch prefix {
	case "xml":
		return XMLSpace, true
	case "":
		return "", true
	}
	return "", false
}
