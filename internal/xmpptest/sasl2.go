package xmpptest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"parley/internal/xmlstream"
)

// Namespaces of XEP-0388 (SASL2), XEP-0386 (Bind 2) and XEP-0484 (FAST).
const (
	NSSASL2 = "urn:xmpp:sasl:2"
	NSBind2 = "urn:xmpp:bind:0"
	NSFAST  = "urn:xmpp:fast:0"
)

// FAST mechanisms (draft-schmaus-kitten-sasl-ht): without channel
// binding, and bound to tls-exporter and tls-server-end-point.
const (
	HTSHA256None = "HT-SHA-256-NONE"
	HTSHA256Expr = "HT-SHA-256-EXPR"
	HTSHA256Endp = "HT-SHA-256-ENDP"
)

// SASL2 makes a client authenticate with XEP-0388 instead of RFC 6120
// SASL, written from the XEPs' examples.
type SASL2 struct {
	// UserAgent is the <user-agent id/> (a UUID); empty sends none.
	UserAgent string
	// Software and Device fill <user-agent/>.
	Software, Device string
	// Bind asks for Bind 2 (XEP-0386) with this <tag/> ("" for none)
	// and Inline (raw XML: <enable xmlns='urn:xmpp:carbons:2'/>, ...)
	// in <bind/>. Without Bind the client binds the RFC 6120 way after
	// <success/> (unless NoBind).
	Bind   bool
	Tag    string
	Inline string
	// Extra is raw XML for <authenticate/> itself: an inline XEP-0198
	// <resume/>, a FAST <request-token/>.
	Extra string
	// Token, if set, authenticates with FAST: Mechanism must be an HT
	// one (its binding is Options.ChannelBindingData if set, else the
	// connection's), and <fast xmlns='urn:xmpp:fast:0'/> is
	// added with FastAttrs (e.g. "invalidate='true'").
	Token     string
	FastAttrs string
}

// Success is the <success/> of a SASL2 login (nil for SASL1).
func (c *Client) Success() *xmlstream.Element { return c.success }

// authenticate2 runs XEP-0388 §2.3-2.6 and reads the stream features the
// server sends after <success/> (no restart). It reports whether the
// session is bound (Bind 2) or resumed.
func (c *Client) authenticate2(o Options, step func() time.Time) error {
	a := o.SASL2
	var initial []byte
	var sc *scramClient
	var htKey, cb []byte
	switch {
	case a.Token != "":
		// draft-schmaus-kitten-sasl-ht-08 §3.1: authcid NUL
		// HMAC(token, "Initiator" || cb-data); NONE binds nothing.
		var err error
		if cb, err = c.htChannel(o); err != nil {
			return err
		}
		m := hmac.New(sha256.New, []byte(a.Token))
		m.Write([]byte("Initiator"))
		m.Write(cb)
		initial = append([]byte(o.User+"\x00"), m.Sum(nil)...)
		htKey = []byte(a.Token)
	default:
		var err error
		if initial, sc, err = c.initialResponse(o, true); err != nil {
			return err
		}
	}
	var b strings.Builder
	b.WriteString("<authenticate xmlns='" + NSSASL2 + "' mechanism='" + xmlEscape(o.Mechanism) + "'>")
	b.WriteString("<initial-response>" + base64.StdEncoding.EncodeToString(initial) + "</initial-response>")
	if a.UserAgent != "" {
		b.WriteString("<user-agent id='" + xmlEscape(a.UserAgent) + "'>")
		if a.Software != "" {
			b.WriteString("<software>" + xmlEscape(a.Software) + "</software>")
		}
		if a.Device != "" {
			b.WriteString("<device>" + xmlEscape(a.Device) + "</device>")
		}
		b.WriteString("</user-agent>")
	}
	if a.Bind {
		b.WriteString("<bind xmlns='" + NSBind2 + "'>")
		if a.Tag != "" {
			b.WriteString("<tag>" + xmlEscape(a.Tag) + "</tag>")
		}
		b.WriteString(a.Inline + "</bind>")
	}
	if a.Token != "" {
		b.WriteString("<fast xmlns='" + NSFAST + "' " + a.FastAttrs + "/>")
	}
	b.WriteString(a.Extra + "</authenticate>")
	if err := c.t.write([]byte(b.String())); err != nil {
		return err
	}
	for challenges := 0; ; challenges++ {
		el, err := c.saslNext(step(), NSSASL2)
		if err != nil {
			return err
		}
		switch el.Name {
		case "success":
			c.success = el
			data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(el.ChildText("additional-data", NSSASL2)))
			if err != nil {
				return fmt.Errorf("xmpptest: SASL2 additional data is not base64: %w", err)
			}
			switch {
			case sc != nil:
				err = sc.verify(data)
			case htKey != nil:
				// §3.2: the server proves it knows the token too.
				m := hmac.New(sha256.New, htKey)
				m.Write([]byte("Responder"))
				m.Write(cb)
				if !hmac.Equal(data, m.Sum(nil)) {
					err = errors.New("xmpptest: HT responder message does not match")
				}
			}
			if err != nil {
				return err
			}
			c.JID = strings.TrimSpace(el.ChildText("authorization-identifier", NSSASL2))
			if el.Child("resumed", "urn:xmpp:sm:3") != nil {
				return nil // the resumed session goes on; no features
			}
			c.Features, err = c.nextElement(step())
			if err != nil {
				return err
			}
			if c.Features.Name != "features" || c.Features.Space != NSStream {
				return fmt.Errorf("xmpptest: expected stream features after SASL2 success, got %s", c.Features)
			}
			return nil
		case "challenge":
			data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(el.Text))
			if err != nil || sc == nil || challenges > 0 {
				return errors.New("xmpptest: unexpected SASL2 challenge")
			}
			if err := c.answerChallenge(sc, data, NSSASL2); err != nil {
				return err
			}
		default:
			return fmt.Errorf("xmpptest: unexpected <%s/> during SASL2", el.Name)
		}
	}
}

// htChannel is the cb-data of an HT mechanism (nil for -NONE).
func (c *Client) htChannel(o Options) ([]byte, error) {
	typ := map[string]string{HTSHA256Expr: TLSExporter, HTSHA256Endp: TLSServerEndPoint}[o.Mechanism]
	if typ == "" || o.ChannelBindingData != nil {
		return o.ChannelBindingData, nil
	}
	return ChannelBindingData(c.TLS, typ)
}
