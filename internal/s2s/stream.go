package s2s

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net"
	"sync"
	"time"

	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Namespaces of stream negotiation.
const (
	nsTLS          = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL         = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsDialback     = "jabber:server:dialback"     // XEP-0220 elements
	nsDialbackFeat = "urn:xmpp:features:dialback" // XEP-0220 §2.1 feature
	nsSM           = "urn:xmpp:sm:3"              // XEP-0198 acks on s2s links
	nsPing         = "urn:xmpp:ping"              // XEP-0199 pings on idle links
	nsBidiFeat     = "urn:xmpp:features:bidi"     // XEP-0288 §2 feature
	nsBidi         = "urn:xmpp:bidi"              // XEP-0288 request
)

// stream is one XML stream over a connection, either direction.
type stream struct {
	c    net.Conn
	r    *xmlstream.Reader
	lim  xmlstream.Limits
	ns   string // the default namespace: jabber:server, or NSComponent
	sm   bool   // the peer offered XEP-0198 in its last features
	auth string // outbound: how we authenticated (AuthExternal, AuthDialback)
	// bidi: the stream carries stanzas both ways (XEP-0288).
	bidi bool
	// wmu serialises writes: a bidirectional inbound stream is written
	// by its reader (acks, dialback answers) and by its link (stanzas).
	wmu sync.Mutex
}

func newStream(c net.Conn, lim xmlstream.Limits) *stream {
	return &stream{c: c, r: xmlstream.NewReader(c, lim), lim: lim, ns: stanza.NSServer}
}

// restart begins a new stream on the same (or upgraded) connection
// (RFC 6120 §4.3.3).
func (s *stream) restart(c net.Conn) {
	s.c = c
	s.r = xmlstream.NewReader(c, s.lim)
}

func (s *stream) write(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	_, err := s.c.Write(b)
	return err
}

func (s *stream) writeEl(e *xmlstream.Element) error {
	return s.write(xmlstream.AppendIn(nil, e, s.ns))
}

// header writes our stream header; id is "" on the initiating side.
func (s *stream) header(from, to, id string) error {
	h := "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' version='1.0'"
	if from != "" {
		h += " from='" + html.EscapeString(from) + "'"
	}
	if to != "" {
		h += " to='" + html.EscapeString(to) + "'"
	}
	if id != "" {
		h += " id='" + id + "'"
	}
	return s.write([]byte(h + ">"))
}

// streamErr sends a stream error and closes the stream (RFC 6120 §4.9).
func (s *stream) streamErr(e *stanza.StreamError) {
	s.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	s.write(append(xmlstream.AppendIn(nil, e.Element(), s.ns), "</stream:stream>"...))
	s.c.Close()
}

// streamError is the stream error that ends a stream after err:
// err's own, a parse error's condition, or undefined-condition.
func streamError(err error) *stanza.StreamError {
	var se *stanza.StreamError
	if errors.As(err, &se) {
		return se
	}
	var sx *xmlstream.SyntaxError
	if errors.As(err, &sx) {
		return stanza.StreamCondition(sx.Condition)
	}
	return stanza.ErrStreamUndefinedCondition
}

// readHeader reads the peer's stream header.
func (s *stream) readHeader() (*xmlstream.Element, error) {
	t, err := s.r.Next()
	if err != nil {
		return nil, err
	}
	if t.Kind != xmlstream.StreamStart {
		return nil, errors.New("s2s: no stream header")
	}
	if t.El.Space != stanza.NSStreams || t.El.Name != "stream" {
		return nil, stanza.ErrStreamInvalidNamespace
	}
	return t.El, nil
}

// next reads one top-level element; a stream error or the stream's end
// is an error.
func (s *stream) next() (*xmlstream.Element, error) {
	t, err := s.r.Next()
	if err != nil {
		return nil, err
	}
	switch {
	case t.Kind == xmlstream.StreamEnd:
		return nil, errors.New("s2s: stream closed by peer")
	case t.Kind != xmlstream.StreamElement:
		return nil, errors.New("s2s: unexpected stream header")
	case t.El.Space == stanza.NSStreams && t.El.Name == "error":
		cond := "undefined-condition"
		if c := t.El.FirstChild(); c != nil {
			cond = c.Name
		}
		return nil, fmt.Errorf("s2s: stream error from peer: %s", cond)
	}
	return t.El, nil
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// renamespace copies el with every element in namespace from moved to
// namespace to: stanzas are jabber:client inside parley and jabber:server
// on the wire between servers (RFC 6120 §4.8.3).
func renamespace(el *xmlstream.Element, from, to string) *xmlstream.Element {
	if el.Name == "" {
		// A raw fragment (a stored PEP item, a room's history): its
		// bytes are all there is, and they declare their namespaces.
		return el
	}
	c := &xmlstream.Element{Name: el.Name, Space: el.Space, Attr: el.Attr, Text: el.Text}
	if c.Space == from {
		c.Space = to
	}
	for _, ch := range el.Children {
		c.Children = append(c.Children, renamespace(ch, from, to))
	}
	return c
}
