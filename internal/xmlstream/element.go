package xmlstream

// Attr is one attribute as written in the source. Name keeps its prefix
// ("xml:lang"); namespace declarations (xmlns, xmlns:p) are not included in
// Element.Attr, they are resolved into Element.Space.
type Attr struct {
	Name  string
	Value string
}

// Element is an XML element with its namespace resolved.
//
// A parsed element keeps Raw: the exact bytes it was read from. Serialising an
// element with Raw set copies those bytes, so a stanza that is only forwarded
// is never re-encoded. Code that changes a parsed element must set Raw to nil
// (or use SetAttr on the raw bytes) so the change is not lost.
//
// Character data is kept as one string per element (Text); mixed content is
// not interleaved with children when an element is rebuilt, which XMPP
// payloads that parley constructs never need.
type Element struct {
	Name     string // local name
	Space    string // namespace URI, resolved from xmlns declarations in scope
	Attr     []Attr
	Children []*Element
	Text     string
	Raw      []byte
}

// Get returns the value of the attribute with the given (possibly prefixed)
// name, or "".
func (e *Element) Get(name string) string {
	for i := range e.Attr {
		if e.Attr[i].Name == name {
			return e.Attr[i].Value
		}
	}
	return ""
}

// Set sets or adds an attribute and drops Raw, which no longer matches.
func (e *Element) Set(name, value string) {
	e.Raw = nil
	for i := range e.Attr {
		if e.Attr[i].Name == name {
			e.Attr[i].Value = value
			return
		}
	}
	e.Attr = append(e.Attr, Attr{name, value})
}

// Child returns the first child with the given local name and namespace.
// An empty space matches any namespace.
func (e *Element) Child(name, space string) *Element {
	for _, c := range e.Children {
		if c.Name == name && (space == "" || c.Space == space) {
			return c
		}
	}
	return nil
}

// ChildText returns the text of the first matching child, or "".
func (e *Element) ChildText(name, space string) string {
	if c := e.Child(name, space); c != nil {
		return c.Text
	}
	return ""
}

// FirstChild returns the first child element, or nil.
func (e *Element) FirstChild() *Element {
	if len(e.Children) == 0 {
		return nil
	}
	return e.Children[0]
}

// Add appends a child and returns e, for building replies.
func (e *Element) Add(children ...*Element) *Element {
	e.Raw = nil
	e.Children = append(e.Children, children...)
	return e
}

// New builds an element; attrs are name, value pairs.
func New(name, space string, attrs ...string) *Element {
	e := &Element{Name: name, Space: space}
	if len(attrs) > 0 {
		e.Attr = make([]Attr, 0, len(attrs)/2)
		for i := 0; i+1 < len(attrs); i += 2 {
			e.Attr = append(e.Attr, Attr{attrs[i], attrs[i+1]})
		}
	}
	return e
}

// NewText builds an element holding only character data.
func NewText(name, space, text string) *Element {
	return &Element{Name: name, Space: space, Text: text}
}
