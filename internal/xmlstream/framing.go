package xmlstream

// NSFraming is the namespace of the <open/> and <close/> elements that
// stand for the stream header and its end over WebSocket (RFC 7395 §3.3).
const NSFraming = "urn:ietf:params:xml:ns:xmpp-framing"

// ParseFrame parses one WebSocket message of RFC 7395 (§3.3.2: each is
// one complete element) into the token it stands for: the framing's
// <open/> is a StreamStart, its <close/> a StreamEnd, anything else a
// StreamElement. lim and scope are as for ParseIn.
func ParseFrame(b []byte, lim Limits, scope *Scope) (Token, error) {
	el, err := ParseIn(b, lim, scope)
	if err != nil {
		return Token{}, err
	}
	if el.Space == NSFraming {
		switch el.Name {
		case "open":
			return Token{Kind: StreamStart, El: el}, nil
		case "close":
			return Token{Kind: StreamEnd}, nil
		}
	}
	return Token{Kind: StreamElement, El: el}, nil
}
