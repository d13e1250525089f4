package xmlstream

import (
	"bytes"
	"strings"
	"sync"
	"unsafe"
)

// Parse parses b as exactly one element (whitespace and one XML declaration
// may precede it, whitespace may follow) with namespaces resolved from its
// own declarations only. It is how RFC 7395 WebSocket frames, which are
// each a complete element, are read.
//
// Parse takes ownership of b: every string in the result, and every
// Element.Raw, is a view of b, so the caller must not modify b afterwards
// (a Reader hands Parse a fresh copy of each stanza). The tree costs three
// allocations (elements, attributes, child pointers) plus one per string
// that needed decoding (entity references, CR line ends, text split by
// child elements).
func Parse(b []byte, lim Limits) (*Element, error) {
	return ParseIn(b, lim, nil)
}

// ParseIn is Parse for an element whose parent declared the namespaces in
// scope, such as a stanza inside a stream whose header declared
// xmlns='jabber:client' and xmlns:stream. scope may be nil.
func ParseIn(b []byte, lim Limits, scope *Scope) (*Element, error) {
	lim = lim.withDefaults()
	if len(b) > lim.MaxStanza {
		return nil, errPolicy("element larger than MaxStanza")
	}
	i := skipSpace(b, 0)
	if bytes.HasPrefix(b[i:], []byte("<?")) {
		end := bytes.Index(b[i:], []byte("?>"))
		if end < 0 {
			return nil, errNWF("unterminated XML declaration")
		}
		if err := checkXMLDecl(b[i : i+end+2]); err != nil {
			return nil, err
		}
		i = skipSpace(b, i+end+2)
	}
	p := getParser(b, lim, scope)
	defer putParser(p)
	end, err := p.element(i, false)
	if err != nil {
		return nil, err
	}
	if skipSpace(b, end) != len(b) {
		return nil, errNWF("content after the root element")
	}
	return p.tree(), nil
}

// parseHeader parses the stream header start tag in b (which holds only
// that tag) and returns it as a childless element, together with the scope
// its declarations set up for the stanzas of the stream.
func parseHeader(b []byte, lim Limits) (*Element, *Scope, error) {
	p := getParser(b, lim, nil)
	defer putParser(p)
	end, err := p.element(0, true)
	if err != nil {
		return nil, nil, err
	}
	if end != len(b) {
		return nil, nil, errNWF("bad stream header")
	}
	sc := &Scope{bindings: append([]binding(nil), p.ns...)}
	return p.tree(), sc, nil
}

// parser holds the scratch state of one parse. Parsers are pooled; the
// tree they build is copied into exact-size allocations by tree, so
// nothing a caller holds points into a pooled parser.
type parser struct {
	b   []byte
	lim Limits

	els    []Element // in document order (pre-order)
	parent []int32   // parent index of els[i], -1 for the root
	attrLo []int32   // els[i]'s attributes are attrs[attrLo[i]:attrLo[i+1]]
	attrs  []Attr
	ns     []binding // namespace declarations in scope, innermost last
	stack  []frame   // open elements
	text   [][]byte  // per-depth builders for text that is not one plain run
	count  []int32   // scratch for tree
}

type frame struct {
	el       int32
	nsMark   int32
	rawStart int32
	textOff  int32 // plain text run b[textOff:textEnd]
	textEnd  int32
	built    bool // text lives in text[depth] instead
	qname    string
}

var parserPool = sync.Pool{New: func() any { return new(parser) }}

func getParser(b []byte, lim Limits, scope *Scope) *parser {
	p := parserPool.Get().(*parser)
	p.b, p.lim = b, lim.withDefaults()
	if scope != nil {
		p.ns = append(p.ns, scope.bindings...)
	}
	return p
}

func putParser(p *parser) {
	// Drop every reference into the caller's buffer before pooling.
	clear(p.els)
	clear(p.attrs)
	clear(p.ns)
	clear(p.stack)
	p.b = nil
	p.els, p.parent, p.attrLo, p.attrs = p.els[:0], p.parent[:0], p.attrLo[:0], p.attrs[:0]
	p.ns, p.stack, p.count = p.ns[:0], p.stack[:0], p.count[:0]
	for i := range p.text {
		if cap(p.text[i]) > 64<<10 {
			p.text[i] = nil
		}
	}
	if cap(p.els) > 4096 || cap(p.attrs) > 4096 {
		return // a one-off giant stanza; let its scratch go
	}
	parserPool.Put(p)
}

// view returns b[i:j] as a string without copying. This is safe because
// the buffer a parser reads is owned by the resulting tree: Parse's caller
// gives it up, a Reader allocates a fresh one per stanza, it is never
// written after the parse and never returned to a pool.
func (p *parser) view(i, j int) string {
	if i == j {
		return ""
	}
	return unsafe.String(&p.b[i], j-i)
}

func (p *parser) lookup(prefix string) (string, bool) { return lookup(p.ns, prefix) }

// element parses the element starting at b[i] == '<' and returns the
// offset after it. With headerOnly it stops after the root start tag, which
// must not be self-closing.
func (p *parser) element(i int, headerOnly bool) (int, error) {
	b := p.b
	if i >= len(b) || b[i] != '<' {
		return i, errNWF("expected '<'")
	}
	for {
		// b[i] == '<'
		if i+1 >= len(b) {
			return i, errNWF("unexpected end of element")
		}
		switch c := b[i+1]; {
		case c == '/':
			var err error
			if i, err = p.endTag(i); err != nil {
				return i, err
			}
			if len(p.stack) == 0 {
				return i, nil
			}
		case c == '!':
			if len(p.stack) > 0 && bytes.HasPrefix(b[i+2:], []byte("[CDATA[")) {
				start := i + 9
				n := bytes.Index(b[start:], []byte("]]>"))
				if n < 0 {
					return i, errNWF("unterminated CDATA section")
				}
				if err := p.addText(start, start+n, modeCDATA); err != nil {
					return i, err
				}
				i = start + n + 3
			} else {
				return i, bangError(b[i+2:])
			}
		case c == '?':
			return i, errRestricted("processing instruction")
		default:
			self, next, err := p.startTag(i)
			if err != nil {
				return next, err
			}
			i = next
			if headerOnly {
				if self {
					return i, errNWF("self-closing stream header")
				}
				p.els[0].Raw = b[:i:i]
				return i, nil
			}
			if len(p.stack) == 0 {
				return i, nil
			}
		}
		n := bytes.IndexByte(b[i:], '<')
		if n < 0 {
			return len(b), errNWF("unclosed element")
		}
		if n > 0 {
			if err := p.addText(i, i+n, modeText); err != nil {
				return i, err
			}
		}
		i += n
	}
}

// bangError classifies "<!" markup other than CDATA: comments and DTD
// declarations are valid XML that RFC 6120 §11.1 forbids, the rest is
// not XML at all.
func bangError(rest []byte) error {
	if len(rest) > 0 && (rest[0] == '-' || rest[0] >= 'A' && rest[0] <= 'Z') {
		return errRestricted("comment or DTD")
	}
	if bytes.HasPrefix(rest, []byte("[CDATA[")) {
		return errNWF("CDATA section outside an element")
	}
	return errNWF("bad markup after '<!'")
}

// startTag parses the start tag at b[i] == '<'.
func (p *parser) startTag(i int) (self bool, next int, err error) {
	b := p.b
	start := i
	i++
	end := nameEnd(b, i)
	if end == i {
		return false, i, errNWF("bad element name")
	}
	qname := p.view(i, end)
	i = end
	if len(p.stack)+1 > p.lim.MaxDepth {
		return false, i, errPolicy("element nesting deeper than MaxDepth")
	}
	el := int32(len(p.els))
	parent := int32(-1)
	if len(p.stack) > 0 {
		parent = p.stack[len(p.stack)-1].el
	}
	p.els = append(p.els, Element{})
	p.parent = append(p.parent, parent)
	p.attrLo = append(p.attrLo, int32(len(p.attrs)))
	nsMark, attrMark := len(p.ns), len(p.attrs)
	nattr := 0
	for {
		j := skipSpace(b, i)
		if j >= len(b) {
			return false, j, errNWF("unterminated start tag")
		}
		if b[j] == '>' {
			i = j + 1
			break
		}
		if b[j] == '/' {
			if j+1 >= len(b) || b[j+1] != '>' {
				return false, j, errNWF("bad '/' in start tag")
			}
			i, self = j+2, true
			break
		}
		if j == i {
			return false, j, errNWF("missing space before attribute")
		}
		if nattr++; nattr > p.lim.MaxAttrs {
			return false, j, errPolicy("more attributes than MaxAttrs")
		}
		if i, err = p.attribute(j, nsMark, attrMark); err != nil {
			return false, i, err
		}
	}

	prefix, local, err := splitQName(qname)
	if err != nil {
		return false, i, err
	}
	if prefix == "xmlns" {
		return false, i, errNWF("element with prefix xmlns")
	}
	space, ok := p.lookup(prefix)
	if !ok {
		return false, i, errNWF("unbound prefix " + prefix)
	}
	for _, a := range p.attrs[attrMark:] {
		if ap, _, err := splitQName(a.Name); err != nil {
			return false, i, err
		} else if ap != "" {
			if _, ok := p.lookup(ap); !ok {
				return false, i, errNWF("unbound prefix " + ap)
			}
		}
	}
	e := &p.els[el]
	e.Name, e.Space = local, space
	if self {
		e.Raw = b[start:i:i]
		p.ns = p.ns[:nsMark]
		return true, i, nil
	}
	p.stack = append(p.stack, frame{el: el, nsMark: int32(nsMark), rawStart: int32(start),
		textOff: -1, textEnd: -1, qname: qname})
	return false, i, nil
}

// attribute parses name='value' at b[i] and records it as an attribute or
// a namespace declaration of the element being opened.
func (p *parser) attribute(i, nsMark, attrMark int) (int, error) {
	b := p.b
	end := nameEnd(b, i)
	if end == i {
		return i, errNWF("bad attribute name")
	}
	name := p.view(i, end)
	i = skipSpace(b, end)
	if i >= len(b) || b[i] != '=' {
		return i, errNWF("attribute without '='")
	}
	i = skipSpace(b, i+1)
	if i >= len(b) || (b[i] != '\'' && b[i] != '"') {
		return i, errNWF("unquoted attribute value")
	}
	n := bytes.IndexByte(b[i+1:], b[i])
	if n < 0 {
		return len(b), errNWF("unterminated attribute value")
	}
	vs, ve := i+1, i+1+n
	i = ve + 1
	dec, err := checkChars(b[vs:ve], modeAttr)
	if err != nil {
		return i, err
	}
	value := p.view(vs, ve)
	if dec {
		buf, err := decode(nil, b[vs:ve], modeAttr)
		if err != nil {
			return i, err
		}
		value = string(buf)
	}
	switch {
	case name == "xmlns":
		return i, p.declare(nsMark, "", value)
	case strings.HasPrefix(name, "xmlns:"):
		prefix := name[len("xmlns:"):]
		switch {
		case prefix == "xmlns", prefix == "xml" && value != XMLSpace, prefix != "xml" && value == XMLSpace:
			return i, errNWF("reserved namespace prefix")
		case value == "":
			return i, errNWF("empty namespace for a prefix")
		case strings.IndexByte(prefix, ':') >= 0 || prefix == "":
			return i, errNWF("bad namespace prefix")
		}
		return i, p.declare(nsMark, prefix, value)
	}
	for _, a := range p.attrs[attrMark:] {
		if a.Name == name {
			return i, errNWF("duplicate attribute " + name)
		}
	}
	p.attrs = append(p.attrs, Attr{Name: name, Value: value})
	return i, nil
}

func (p *parser) declare(nsMark int, prefix, uri string) error {
	for _, d := range p.ns[nsMark:] {
		if d.prefix == prefix {
			return errNWF("duplicate namespace declaration")
		}
	}
	p.ns = append(p.ns, binding{prefix, uri})
	return nil
}

// splitQName splits "p:local" (Namespaces in XML 1.0 §4).
func splitQName(q string) (prefix, local string, err error) {
	c := strings.IndexByte(q, ':')
	if c < 0 {
		return "", q, nil
	}
	prefix, local = q[:c], q[c+1:]
	if prefix == "" || local == "" || strings.IndexByte(local, ':') >= 0 || nameClass[local[0]] != 2 {
		return "", "", errNWF("bad qualified name " + q)
	}
	return prefix, local, nil
}

// endTag parses the end tag at b[i:] == "</" and closes the open element.
func (p *parser) endTag(i int) (int, error) {
	b := p.b
	if len(p.stack) == 0 {
		return i, errNWF("end tag without start tag")
	}
	i += 2
	end := nameEnd(b, i)
	f := &p.stack[len(p.stack)-1]
	if p.view(i, end) != f.qname {
		return i, errNWF("mismatched end tag")
	}
	i = skipSpace(b, end)
	if i >= len(b) || b[i] != '>' {
		return i, errNWF("bad end tag")
	}
	i++
	e := &p.els[f.el]
	e.Raw = b[f.rawStart:i:i]
	switch {
	case f.built:
		e.Text = string(p.text[len(p.stack)-1])
	case f.textOff >= 0:
		e.Text = p.view(int(f.textOff), int(f.textEnd))
	}
	p.ns = p.ns[:f.nsMark]
	p.stack = p.stack[:len(p.stack)-1]
	return i, nil
}

// addText appends the character data b[i:j] to the innermost open element.
// A single plain run stays a view of b; anything else is built in a
// per-depth scratch buffer and copied once when the element closes.
func (p *parser) addText(i, j, mode int) error {
	run := p.b[i:j]
	dec, err := checkChars(run, mode)
	if err != nil {
		return err
	}
	d := len(p.stack) - 1
	f := &p.stack[d]
	if !dec && !f.built && f.textOff < 0 {
		f.textOff, f.textEnd = int32(i), int32(j)
		return nil
	}
	for len(p.text) <= d {
		p.text = append(p.text, nil)
	}
	buf := p.text[d]
	if !f.built {
		buf = buf[:0]
		if f.textOff >= 0 {
			buf = append(buf, p.b[f.textOff:f.textEnd]...)
		}
		f.built = true
	}
	if dec {
		buf, err = decode(buf, run, mode)
	} else {
		buf = append(buf, run...)
	}
	p.text[d] = buf
	return err
}

// tree copies the scratch elements into exact-size allocations: one slab of
// Elements, one of Attrs and one of child pointers.
func (p *parser) tree() *Element {
	n := len(p.els)
	out := make([]Element, n)
	copy(out, p.els)
	if len(p.attrs) > 0 {
		attrs := make([]Attr, len(p.attrs))
		copy(attrs, p.attrs)
		for i := range out {
			lo, hi := int(p.attrLo[i]), len(attrs)
			if i+1 < n {
				hi = int(p.attrLo[i+1])
			}
			if hi > lo {
				out[i].Attr = attrs[lo:hi:hi]
			}
		}
	}
	if n > 1 {
		// Children of one parent are not adjacent in pre-order, so count
		// them first and give each parent a contiguous run of pointers.
		cnt := p.count[:0]
		for range n {
			cnt = append(cnt, 0)
		}
		for _, par := range p.parent[1:] {
			cnt[par]++
		}
		ptrs := make([]*Element, n-1)
		off := 0
		for i := range out {
			c := int(cnt[i])
			if c > 0 {
				out[i].Children = ptrs[off : off : off+c]
			}
			off += c
		}
		for i := 1; i < n; i++ {
			par := &out[p.parent[i]]
			par.Children = append(par.Children, &out[i])
		}
		p.count = cnt
	}
	return &out[0]
}

// checkXMLDecl validates an XML declaration "<?xml ...?>": RFC 6120 §11.6
// allows only UTF-8, and any other processing instruction is restricted
// XML (§11.1).
func checkXMLDecl(d []byte) error {
	if len(d) < 7 || string(d[:5]) != "<?xml" || !spaceClass[d[5]] {
		return errRestricted("processing instruction")
	}
	body := d[5 : len(d)-2]
	seen := 0
	for i := skipSpace(body, 0); i < len(body); i = skipSpace(body, i) {
		end := nameEnd(body, i)
		if end == i {
			return errNWF("bad XML declaration")
		}
		name := string(body[i:end])
		i = skipSpace(body, end)
		if i >= len(body) || body[i] != '=' {
			return errNWF("bad XML declaration")
		}
		i = skipSpace(body, i+1)
		if i >= len(body) || (body[i] != '\'' && body[i] != '"') {
			return errNWF("bad XML declaration")
		}
		n := bytes.IndexByte(body[i+1:], body[i])
		if n < 0 {
			return errNWF("bad XML declaration")
		}
		val := string(body[i+1 : i+1+n])
		i += n + 2
		if i < len(body) && !spaceClass[body[i]] {
			return errNWF("bad XML declaration")
		}
		switch {
		case name == "version" && seen == 0:
			if !strings.HasPrefix(val, "1.") {
				return errNWF("unsupported XML version")
			}
			seen = 1
		case name == "encoding" && seen == 1:
			if !strings.EqualFold(val, "UTF-8") {
				return &SyntaxError{UnsupportedEncoding, "encoding " + val}
			}
			seen = 2
		case name == "standalone" && seen >= 1 && seen < 3:
			seen = 3
		default:
			return errNWF("bad XML declaration")
		}
	}
	if seen == 0 {
		return errNWF("XML declaration without version")
	}
	return nil
}
