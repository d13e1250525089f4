// Package stanza gives the three XMPP stanza kinds of RFC 6120 §8 a typed
// view over a parsed element, and the stanza and stream error values of
// RFC 6120 §8.3 and §4.9.
//
// A Stanza keeps its serialised form in El.Raw. Changing an address splices
// the attribute into those bytes instead of re-encoding the element, so a
// message routed from one client to another is parsed once and copied, never
// rebuilt.
package stanza

import (
	"fmt"

	"parley/internal/jid"
	"parley/internal/xmlstream"
)

// Namespaces used across the server.
const (
	NSClient  = "jabber:client"
	NSServer  = "jabber:server"
	NSStreams = "http://etherx.jabber.org/streams"
	NSStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSStream  = "urn:ietf:params:xml:ns:xmpp-streams"
)

// Kind is the stanza kind.
type Kind uint8

const (
	Message Kind = iota + 1
	Presence
	IQ
)

func (k Kind) String() string {
	switch k {
	case Message:
		return "message"
	case Presence:
		return "presence"
	case IQ:
		return "iq"
	}
	return "unknown"
}

// KindOf returns the kind named by an element, or 0.
func KindOf(el *xmlstream.Element) Kind {
	if el.Space != NSClient && el.Space != NSServer {
		return 0
	}
	switch el.Name {
	case "message":
		return Message
	case "presence":
		return Presence
	case "iq":
		return IQ
	}
	return 0
}

// Stanza is a message, presence or IQ with its addresses parsed.
type Stanza struct {
	Kind     Kind
	El       *xmlstream.Element
	From, To jid.JID
	Type, ID string
}

// Parse types an element. A bad 'to' or 'from' gives a jid-malformed error;
// a wrong IQ shape gives bad-request (RFC 6120 §8.2.3).
func Parse(el *xmlstream.Element) (*Stanza, error) {
	s := &Stanza{Kind: KindOf(el), El: el, Type: el.Get("type"), ID: el.Get("id")}
	if s.Kind == 0 {
		return nil, fmt.Errorf("stanza: <%s xmlns='%s'> is not a stanza", el.Name, el.Space)
	}
	var err error
	if v := el.Get("to"); v != "" {
		if s.To, err = jid.Parse(v); err != nil {
			return s, ErrJIDMalformed.WithText("bad 'to' address")
		}
	}
	if v := el.Get("from"); v != "" {
		if s.From, err = jid.Parse(v); err != nil {
			return s, ErrJIDMalformed.WithText("bad 'from' address")
		}
	}
	if s.Kind == IQ {
		if s.ID == "" {
			return s, ErrBadRequest.WithText("iq without id")
		}
		switch s.Type {
		case "get", "set":
			if len(el.Children) != 1 {
				return s, ErrBadRequest.WithText("iq get/set must have exactly one child")
			}
		case "result", "error":
		default:
			return s, ErrBadRequest.WithText("iq type must be get, set, result or error")
		}
	}
	return s, nil
}

// Payload is the first child of the stanza (an IQ's query), or nil.
func (s *Stanza) Payload() *xmlstream.Element { return s.El.FirstChild() }

// Bytes is the serialised stanza.
func (s *Stanza) Bytes() []byte {
	if s.El.Raw == nil {
		s.El.Raw = xmlstream.AppendIn(nil, s.El, NSClient)
	}
	return s.El.Raw
}

// SetFrom stamps the sender's address (RFC 6120 §8.1.2.1).
func (s *Stanza) SetFrom(j jid.JID) {
	s.From = j
	s.setAttr("from", j.String())
}

// SetTo readdresses the stanza.
func (s *Stanza) SetTo(j jid.JID) {
	s.To = j
	s.setAttr("to", j.String())
}

func (s *Stanza) setAttr(name, v string) {
	raw := s.Bytes()
	s.El.Set(name, v) // drops Raw
	s.El.Raw = xmlstream.SetAttr(raw, name, v)
}

// Copy returns a stanza sharing the element tree but with its own attributes
// and raw bytes, so the copy can be readdressed without touching s.
func (s *Stanza) Copy() *Stanza {
	el := *s.El
	el.Attr = append([]xmlstream.Attr(nil), s.El.Attr...)
	c := *s
	c.El = &el
	return &c
}

// IsAvailability reports whether a presence stanza is available or
// unavailable presence, as opposed to a subscription, probe or error.
func (s *Stanza) IsAvailability() bool {
	return s.Kind == Presence && (s.Type == "" || s.Type == "unavailable")
}

// New builds a stanza element of a kind with optional from/to/type/id.
func New(k Kind, from, to jid.JID, typ, id string) *Stanza {
	el := xmlstream.New(k.String(), NSClient)
	if !to.IsZero() {
		el.Attr = append(el.Attr, xmlstream.Attr{Name: "to", Value: to.String()})
	}
	if !from.IsZero() {
		el.Attr = append(el.Attr, xmlstream.Attr{Name: "from", Value: from.String()})
	}
	if typ != "" {
		el.Attr = append(el.Attr, xmlstream.Attr{Name: "type", Value: typ})
	}
	if id != "" {
		el.Attr = append(el.Attr, xmlstream.Attr{Name: "id", Value: id})
	}
	return &Stanza{Kind: k, El: el, From: from, To: to, Type: typ, ID: id}
}

// Result builds the result of an IQ get/set with an optional payload
// (RFC 6120 §8.2.3).
func Result(iq *Stanza, payload *xmlstream.Element) *Stanza {
	r := New(IQ, iq.To, iq.From, "result", iq.ID)
	if payload != nil {
		r.El.Children = append(r.El.Children, payload)
	}
	return r
}
