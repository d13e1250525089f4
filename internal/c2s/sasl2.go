package c2s

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"unicode/utf8"

	"parley/internal/jid"
	"parley/internal/router"
	"parley/internal/sasl"
	"parley/internal/stanza"
	"parley/internal/xmlstream"
)

// Extensible SASL Profile (XEP-0388) with Bind 2 (XEP-0386): a client
// authenticates, binds a resource and enables carbons, client state
// indication and stream management (or resumes a session, XEP-0198) in
// one round trip after the initial response, without a stream restart.

const (
	nsSASL2 = "urn:xmpp:sasl:2"
	nsBind2 = "urn:xmpp:bind:0"
	nsCSI0  = "urn:xmpp:csi:0"
	nsMAM   = "urn:xmpp:mam:2"
)

// Limits on what a client tells about itself in <authenticate/>.
const (
	maxUserAgentID = 128 // XEP-0388 asks for a UUID (36 characters)
	maxBindTag     = 32  // XEP-0386 §3.2: a short software name
)

// sasl2Request is what an <authenticate/> asked for beyond the SASL
// exchange; it lives until the exchange ends.
type sasl2Request struct {
	userAgent string             // <user-agent id/>, "" if none
	bind      *xmlstream.Element // <bind xmlns='urn:xmpp:bind:0'/>, nil if none
	resume    *xmlstream.Element // <resume xmlns='urn:xmpp:sm:3'/>, nil if none
	software  string             // <user-agent><software/>
	device    string             // <user-agent><device/>
	fast      *fastRequest       // XEP-0484 parts (fast.go), nil if none
	login     *fastLogin         // an HT exchange's device (fast.go)
	tokenUsed int                // which token an HT exchange used, -1: none
}

// appendSASL2 advertises SASL2 with the mechanisms of SASL1 (so XEP-0474
// hashes the same list for both) and what may be negotiated inline.
func (s *session) appendSASL2(b []byte, mechs []string) []byte {
	b = append(b, "<authentication xmlns='"+nsSASL2+"'>"...)
	b = appendMechanisms(b, mechs)
	b = append(b, "<inline><bind xmlns='"+nsBind2+"'><inline>"...)
	for _, ns := range s.srv.inlineFeatures() {
		b = append(b, "<feature var='"+xmlEscape(ns)+"'/>"...)
	}
	b = append(b, "</inline></bind><sm xmlns='"+nsSM+"'/>"...)
	b = s.srv.appendFASTFeature(b, s.channel())
	return append(b, "</inline></authentication>"...)
}

// inlineFeatures are the Bind 2 inline features (XEP-0386 §3.1): stream
// management and client state indication, which c2s serves itself, and
// those of modules (Config.BindInline: carbons).
func (srv *Server) inlineFeatures() []string {
	f := []string{nsCSI0, nsSM}
	for ns := range srv.cfg.BindInline {
		f = append(f, ns)
	}
	return f
}

// sasl2 handles the XEP-0388 top-level elements.
func (s *session) sasl2(ctx context.Context, el *xmlstream.Element) error {
	if s.authed {
		// XEP-0388 §5.8: no second authentication on a stream.
		return stanza.ErrStreamPolicyViolation.WithText("already authenticated")
	}
	switch el.Name {
	case "authenticate":
		req := &sasl2Request{tokenUsed: -1}
		s.s2 = req
		if !s.secure && !s.plaintextOK {
			return s.authFailedWith(sasl.EncryptionRequired, "use STARTTLS first")
		}
		mech := el.Get("mechanism")
		var initial *xmlstream.Element
		for _, c := range el.Children {
			switch {
			case c.Space == nsSASL2 && c.Name == "initial-response":
				initial = c
			case c.Space == nsSASL2 && c.Name == "user-agent":
				id := c.Get("id")
				if len(id) > maxUserAgentID || !utf8.ValidString(id) {
					return s.authFailedWith(sasl.MalformedRequest, "user-agent id too long")
				}
				req.userAgent = id
				req.software = limitText(c.ChildText("software", nsSASL2))
				req.device = limitText(c.ChildText("device", nsSASL2))
			case c.Space == nsBind2 && c.Name == "bind":
				req.bind = c
			case c.Space == nsSM && c.Name == "resume":
				req.resume = c
			case c.Space == nsFAST:
				if err := req.addFAST(c, s.srv.fastMechanisms(s.channel())); err != nil {
					return s.authFailedWith(sasl.MalformedRequest, err.Error())
				}

			}
		}
		if req.fast != nil && req.fast.requestToken != "" && req.userAgent == "" {
			// XEP-0484 §6.1: a token is issued to a device.
			return s.authFailedWith(sasl.MalformedRequest, "a FAST token needs a user-agent id")
		}
		ex, f := s.startExchange(ctx, mech, req)
		if f != nil {
			return s.authFailedWith(f.Condition, f.Text)
		}
		s.exchange = ex
		text := ""
		if initial != nil {
			text = initial.Text
			if strings.TrimSpace(text) == "" {
				text = "=" // present but empty: an empty initial response
			}
		}
		return s.saslStep(ctx, text, true)
	case "response":
		if s.exchange == nil || s.s2 == nil {
			return stanza.ErrStreamPolicyViolation.WithText("no SASL2 exchange in progress")
		}
		return s.saslStep(ctx, el.Text, false)
	case "abort":
		if s.s2 == nil {
			s.s2 = &sasl2Request{}
		}
		return s.authFailedWith(sasl.Aborted, "")
	}
	return stanza.ErrStreamUnsupportedStanzaType.WithText("<" + el.Name + "/> in " + nsSASL2)
}

// limitText keeps what a client says of itself to a readable length.
func limitText(s string) string {
	s = strings.TrimSpace(s)
	for len(s) > 64 || !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s[:min(len(s), 64)], "")
	}
	return s
}

// startExchange creates the exchange an <auth/> or <authenticate/> asked
// for: a mechanism we advertised on this stream (a FAST one only in
// SASL2: fast.go).
func (s *session) startExchange(ctx context.Context, mech string, req *sasl2Request) (*sasl.Server, *sasl.Failure) {
	ch := s.channel()
	if mech == sasl.Plain && !ch.Secure {
		return nil, &sasl.Failure{Condition: sasl.EncryptionRequired, Text: "PLAIN needs TLS"}
	}
	if req != nil && s.srv.cfg.Fast != nil && sasl.IsHT(mech) {
		return s.startFAST(ctx, mech, req, ch)
	}
	ex, err := sasl.NewServerOn(mech, s.srv.saslConfig, sasl.Offer{Channel: ch, Mechanisms: sasl.Mechanisms(ch)})
	if err != nil {
		return nil, &sasl.Failure{Condition: sasl.InvalidMechanism}
	}
	return ex, nil
}

// authFailedWith ends an exchange that failed before the mechanism ran.
func (s *session) authFailedWith(cond sasl.Condition, text string) error {
	s.exchange = nil
	err := s.write(s.saslFailure(cond, text))
	s.s2 = nil
	return err
}

// saslFailure is <failure/> in the profile of the exchange (RFC 6120
// §6.5, XEP-0388 §2.6.2: the same conditions, in SASL1's namespace).
func (s *session) saslFailure(cond sasl.Condition, text string) []byte {
	if s.s2 == nil {
		return saslFailure(cond, text)
	}
	b := "<failure xmlns='" + nsSASL2 + "'><" + string(cond) + " xmlns='" + nsSASL + "'/>"
	if text != "" {
		b += "<text>" + xmlEscape(text) + "</text>"
	}
	return []byte(b + "</failure>")
}

// challenge is <challenge/> in the profile of the exchange.
func (s *session) challenge(b64 string) []byte {
	ns := nsSASL
	if s.s2 != nil {
		ns = nsSASL2
	}
	return []byte("<challenge xmlns='" + ns + "'>" + b64 + "</challenge>")
}

// sasl2Success finishes a successful SASL2 exchange: an inline XEP-0198
// resumption first (XEP-0386 §3.2 note: if it works, the bind request is
// ignored), else the Bind 2 request, then <success/> and, as no restart
// follows, the stream features of the authenticated stream.
func (s *session) sasl2Success(ctx context.Context, additional string) error {
	req := s.s2
	s.s2 = nil
	s.fr.authenticated()
	var extra []byte
	token, err := s.fastSuccess(ctx, req)
	if err != nil {
		return err
	}
	extra = append(extra, token...)
	if req.resume != nil {
		ok, failed := s.resumeInline(req.resume, additional, extra)
		if ok {
			return errHandedOff
		}
		extra = append(extra, failed...)
	}
	open := "<success xmlns='" + nsSASL2 + "'>"
	if additional != "" {
		open += "<additional-data>" + additional + "</additional-data>"
	}
	if req.bind == nil {
		bare, _ := jid.New(s.username, s.srv.domain.Domain(), "")
		b := open + "<authorization-identifier>" + xmlEscape(bare.String()) + "</authorization-identifier>" +
			string(extra) + "</success>"
		return s.writeFrames([][]byte{[]byte(b), s.fr.features(s.featureList())})
	}
	return s.bind2(ctx, req, open, extra)
}

// bind2 binds a resource as XEP-0386 §3.2 asks and enables the inline
// features the client listed, then sends <success/> with <bound/>.
func (s *session) bind2(ctx context.Context, req *sasl2Request, open string, extra []byte) error {
	full, serr := s.bindable(s.bind2Resource(req))
	if serr != nil {
		// The authentication stands; the client binds the RFC 6120 way.
		bare, _ := jid.New(s.username, s.srv.domain.Domain(), "")
		b := open + "<authorization-identifier>" + xmlEscape(bare.String()) + "</authorization-identifier>" +
			string(extra) + "</success>"
		return s.writeFrames([][]byte{[]byte(b), s.fr.features(s.featureList())})
	}
	s.full = full
	s.bound.Store(true)
	var bound []byte
	var handlers []*xmlstream.Element
	for _, c := range req.bind.Children {
		switch {
		case c.Space == nsSM && c.Name == "enable":
			bound = append(bound, s.enableSM(c)...)
		case c.Space == nsCSI0 && (c.Name == "active" || c.Name == "inactive"):
			s.out.setInactive(c.Name == "inactive")
		case s.srv.cfg.BindInline[c.Space] != nil:
			handlers = append(handlers, c)
		}
	}
	if md := s.srv.cfg.BoundMetadata; md != nil {
		iq := stanza.New(stanza.IQ, full, full.Bare(), "get", "bind2")
		iq.El.Add(xmlstream.New("metadata", nsMAM))
		if el, err := md(ctx, iq); err == nil && el != nil {
			bound = xmlstream.Append(bound, el)
		} else if err != nil {
			s.srv.log.Info("bind 2: no archive metadata", "jid", full.String(), "err", err)
		}
	}
	b := open + "<authorization-identifier>" + xmlEscape(full.String()) + "</authorization-identifier>" +
		"<bound xmlns='" + nsBind2 + "'>" + string(bound) + "</bound>" + string(extra) + "</success>"
	// Queued before the session is reachable, so nothing routed to it
	// can overtake the success.
	if err := s.write([]byte(b)); err != nil {
		return err
	}
	if err := s.write(s.fr.features(s.featureList())); err != nil {
		return err
	}
	s.srv.router.Bind(s)
	for _, c := range handlers {
		// XEP-0386 §3.2: carbons "MUST succeed, no response is
		// necessary"; a module that refuses is logged, not reported.
		iq := stanza.New(stanza.IQ, full, full.Bare(), "set", "bind2")
		iq.El.Add(c)
		if _, err := s.srv.cfg.BindInline[c.Space](ctx, iq); err != nil {
			s.srv.log.Info("bind 2 inline feature failed", "jid", full.String(), "feature", c.Space, "err", err)
		}
	}
	return nil
}

// bind2Resource is the resource XEP-0386 §3.2.1 recommends: the client's
// tag, '/', and an identifier of our own. With a user-agent id the
// identifier is derived from it (keyed, so the id itself is not exposed),
// so the same device gets the same resource at every login and its new
// session replaces its old one (RFC 6120 §7.7.2.2 conflict); without one
// it is random.
func (s *session) bind2Resource(req *sasl2Request) string {
	tag := strings.TrimSpace(req.bind.ChildText("tag", nsBind2))
	if len(tag) > maxBindTag || !utf8.ValidString(tag) {
		tag = ""
	}
	id := stanza.NewID()
	if req.userAgent != "" {
		m := hmac.New(sha256.New, s.srv.saslConfig.Secret)
		m.Write([]byte("bind2\x00" + s.username + "\x00" + req.userAgent + "\x00" + tag))
		id = strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:10]))
	}
	if tag == "" {
		return id
	}
	if _, err := jid.New("x", "x", tag+"/"+id); err != nil {
		return id // a tag no resource can hold
	}
	return tag + "/" + id
}

// bindable checks that res can be bound for the session's user (RFC 6120
// §7.6-7.7) and returns the full JID.
func (s *session) bindable(res string) (jid.JID, *stanza.Error) {
	full, err := jid.New(s.username, s.srv.domain.Domain(), res)
	if err != nil {
		// RFC 6120 §7.7.2.1: a resource that violates the rules.
		return jid.JID{}, stanza.ErrBadRequest.WithText("resource is not valid")
	}
	if s.srv.sessionsOf(full) >= s.srv.cfg.MaxResources {
		// RFC 6120 §7.6.2.1: too many resources bound.
		return jid.JID{}, stanza.ErrResourceConstraint.WithText("too many resources")
	}
	return full, nil
}

// resumeInline resumes the session named by an inline <resume/>
// (XEP-0198 with XEP-0388): on success the old session takes the
// connection and sends <success/> with <resumed/>; otherwise failed is
// the <failed/> to include in our <success/>.
func (s *session) resumeInline(el *xmlstream.Element, additional string, extra []byte) (ok bool, failed []byte) {
	h, perr := parseH(el.Get("h"))
	if perr != nil {
		return false, smFailed("bad-request", "")
	}
	old := s.srv.takeResumable(el.Get("previd"), s.username)
	if old == nil {
		return false, smFailed("item-not-found", "")
	}
	wrap := func(full jid.JID, resumed []byte) []byte {
		b := "<success xmlns='" + nsSASL2 + "'>"
		if additional != "" {
			b += "<additional-data>" + additional + "</additional-data>"
		}
		b += "<authorization-identifier>" + xmlEscape(full.String()) + "</authorization-identifier>"
		return []byte(b + string(resumed) + string(extra) + "</success>")
	}
	old.resumeCh <- resumption{fr: s.fr, h: h, transport: s.transport, secure: s.secure, wrap: wrap}
	return true, nil
}

// BindInline is how a module serves a Bind 2 inline feature: given the
// element the client put in <bind/>, as the payload of an IQ set from
// the new session.
type BindInline = router.IQHandler
