package c2s

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"parley/internal/clock"
	"parley/internal/stanza"
	"parley/internal/transport"
	"parley/internal/xmlstream"
)

// BOSH (XEP-0124, XEP-0206): an XML stream carried by HTTP requests, for
// web clients behind proxies that refuse WebSocket. Each POST carries a
// <body/> with the client's elements and is answered with a <body/>
// holding the server's, held up to 'wait' seconds until there is
// something to say. The session's negotiation logic is the TCP one; only
// the framing differs.
const (
	nsHTTPBind = "http://jabber.org/protocol/httpbind"
	nsXBOSH    = "urn:xmpp:xbosh"
)

// BOSH parameters the server chooses (XEP-0124 §7.1).
const (
	boshMaxWait  = 60 // seconds a request may be held
	boshRequests = 2  // simultaneous requests a client may have
	boshHold     = 1  // requests held at most
	boshPolling  = 2  // seconds (advertised; with hold 1 a client never polls)
	boshWindow   = boshRequests
	// boshOverhead is what a <body/> adds to the stanzas it carries.
	boshOverhead = 1024
)

// boshSession is the HTTP side of one BOSH session: the elements the
// client sent that the session's reader has not taken yet, and the
// frames the session wrote that no response has carried yet.
type boshSession struct {
	sid      string
	srv      *Server
	clock    clock.Clock
	lastRead *atomic.Int64 // the session's: requests are its reads

	mu       sync.Mutex
	in       []xmlstream.Token
	out      [][]byte
	changed  chan struct{} // closed (and replaced) at every change
	rid      int64         // the last request processed
	held     []int64       // rids of the requests waiting, oldest first
	answers  map[int64][]byte
	streamID string // the session's stream id: the creation response's authid
	from     string // the domain, for the creation response
	stErr    bool   // a stream error is among out: terminate with remote-stream-error
	ended    bool   // the stream is closed: the next response terminates
}

func (b *boshSession) notify() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// push hands tokens to the session's reader.
func (b *boshSession) push(toks ...xmlstream.Token) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.in = append(b.in, toks...)
	b.notify()
}

// end closes the session from the HTTP side (the client's terminate, or
// the server gone): the reader gets EOF, held requests are answered.
func (b *boshSession) end() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.ended {
		b.ended = true
		b.notify()
	}
}

// boshFraming adapts a boshSession to the session's framing.
type boshFraming struct{ b *boshSession }

// authenticated changes nothing: the handler bounds each request's body
// by the configured stanza limit, before and after authentication.
func (f *boshFraming) authenticated() {}

// next waits for the client's next element.
func (f *boshFraming) next() (xmlstream.Token, error) {
	b := f.b
	for {
		b.mu.Lock()
		if len(b.in) > 0 {
			t := b.in[0]
			b.in = b.in[1:]
			b.mu.Unlock()
			return t, nil
		}
		if b.ended {
			b.mu.Unlock()
			return xmlstream.Token{}, io.EOF
		}
		ch := b.changed
		b.mu.Unlock()
		<-ch
	}
}

// header records the stream id for the creation response; a BOSH
// response carries no stream header (XEP-0206 §5).
func (f *boshFraming) header(id, from, to, lang string) []byte {
	f.b.mu.Lock()
	f.b.streamID, f.b.from = id, from
	f.b.mu.Unlock()
	return nil
}

func (f *boshFraming) features(inner []byte) []byte {
	b := append([]byte("<stream:features xmlns:stream='"+streamsNS+"'>"), inner...)
	return append(b, "</stream:features>"...)
}

func (f *boshFraming) streamError(e *stanza.StreamError) []byte {
	f.b.mu.Lock()
	f.b.stErr = true
	f.b.mu.Unlock()
	return appendStreamError([]byte("<stream:error xmlns:stream='"+streamsNS+"'>"), e)
}

// trailer is not written: closing the stream terminates the BOSH session
// (writeFrames sees it).
func (f *boshFraming) trailer() []byte { return []byte("</stream:stream>") }

// writeFrames queues the frames for the next response. Stanzas carry
// their namespace: inside <body/> the default one is httpbind's.
func (f *boshFraming) writeFrames(bufs [][]byte) error {
	b := f.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return io.ErrClosedPipe
	}
	for _, buf := range bufs {
		switch {
		case len(buf) == 0 || strings.TrimSpace(string(buf)) == "":
			continue // no header, no whitespace keepalive in BOSH
		case string(buf) == "</stream:stream>":
			b.ended = true
			continue
		case kindOfRaw(buf) != 0 && !hasXMLNS(buf):
			buf = xmlstream.SetAttr(buf, "xmlns", stanza.NSClient)
		}
		b.out = append(b.out, append([]byte(nil), buf...))
	}
	b.notify()
	return nil
}

// restart: the client asks for it with xmpp:restart (XEP-0206 §5), which
// the handler turns into a stream header token.
func (f *boshFraming) restart() {}

func (f *boshFraming) close() error {
	f.b.end()
	f.b.srv.dropBOSH(f.b.sid)
	return nil
}

// BOSH returns the /http-bind endpoint (XEP-0206). plaintextOK and
// trusted are as for WebSocket.
func (s *Server) BOSH(plaintextOK bool, trusted []netip.Prefix) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Web clients on other origins may use it: authentication is SASL
		// inside the stream, never a cookie.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST, OPTIONS")
			http.Error(w, "BOSH takes POST (XEP-0124)", http.StatusMethodNotAllowed)
			return
		}
		lim := s.cfg.Limits
		if lim.MaxStanza == 0 {
			lim = xmlstream.DefaultLimits()
		}
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(2*lim.MaxStanza+boshOverhead)))
		if err != nil {
			boshTerminate(w, http.StatusRequestEntityTooLarge, "policy-violation")
			return
		}
		lim.MaxDepth++ // the <body/> around the stanzas
		lim.MaxStanza = len(data) + 1
		body, err := xmlstream.ParseIn(data, lim, xmlstream.NewScope(nsHTTPBind))
		if err != nil || body.Space != nsHTTPBind || body.Name != "body" {
			boshTerminate(w, http.StatusBadRequest, "bad-request")
			return
		}
		rid, err := strconv.ParseInt(body.Get("rid"), 10, 64)
		if err != nil || rid < 0 {
			boshTerminate(w, http.StatusBadRequest, "bad-request")
			return
		}
		if body.Get("sid") == "" {
			s.boshCreate(w, r, body, rid, plaintextOK, trusted)
			return
		}
		b := s.lookupBOSH(body.Get("sid"))
		if b == nil {
			boshTerminate(w, http.StatusNotFound, "item-not-found")
			return
		}
		s.boshRequest(w, r, b, body, rid)
	})
}

// boshCreate starts a session (XEP-0124 §7.1, XEP-0206 §4) and answers
// with its parameters and the stream features.
func (s *Server) boshCreate(w http.ResponseWriter, r *http.Request, body *xmlstream.Element, rid int64, plaintextOK bool, trusted []netip.Prefix) {
	wait := boshMaxWait
	if v, err := strconv.Atoi(body.Get("wait")); err == nil && v >= 0 && v < wait {
		wait = v
	}
	peer := remoteAddr(r).Addr()
	ss := s.newSession(transport.ClientAddr(r.Header, peer, trusted).String(), "bosh")
	if ss == nil {
		boshTerminate(w, http.StatusServiceUnavailable, "remote-connection-failed")
		return
	}
	ss.secure = r.TLS != nil || (transport.Trusted(peer, trusted) && r.Header.Get("X-Forwarded-Proto") == "https")
	ss.plaintextOK = plaintextOK && peer.IsLoopback()
	b := &boshSession{sid: streamID(), srv: s, clock: s.cfg.Clock, lastRead: &ss.lastRead, changed: make(chan struct{}),
		rid: rid, answers: make(map[int64][]byte)}
	ss.fr = &boshFraming{b: b}
	s.mu.Lock()
	if s.boshSessions == nil {
		s.boshSessions = make(map[string]*boshSession)
	}
	s.boshSessions[b.sid] = b
	s.mu.Unlock()
	b.push(xmlstream.Token{Kind: xmlstream.StreamStart, El: streamHeader(body)})
	go s.runSession(ss)

	// The creation response waits for the features (or the failure).
	frames, ended := b.collect(r.Context(), rid, time.Duration(wait)*time.Second)
	b.mu.Lock()
	attrs := "sid='" + b.sid + "' wait='" + strconv.Itoa(wait) + "' requests='" + strconv.Itoa(boshRequests) +
		"' hold='" + strconv.Itoa(boshHold) + "' polling='" + strconv.Itoa(boshPolling) +
		"' inactivity='" + strconv.Itoa(int(s.cfg.IdleTimeout/time.Second)) + "' maxpause='0' ver='1.11' from='" + xmlEscape(b.from) +
		"' authid='" + b.streamID + "' xmpp:version='1.0' xmlns:xmpp='" + nsXBOSH + "' xmpp:restartlogic='true'"
	b.mu.Unlock()
	b.answer(w, rid, attrs, frames, ended)
}

// streamHeader turns the <body/> that creates a session or restarts its
// stream into the stream header the session expects.
func streamHeader(body *xmlstream.Element) *xmlstream.Element {
	h := xmlstream.New("stream", streamsNS, "version", "1.0")
	if to := body.Get("to"); to != "" {
		h.Set("to", to)
	}
	if lang := body.Get("xml:lang"); lang != "" {
		h.Set("xml:lang", lang)
	}
	return h
}

// boshRequest handles a request of a running session (XEP-0124 §9-§12).
func (s *Server) boshRequest(w http.ResponseWriter, r *http.Request, b *boshSession, body *xmlstream.Element, rid int64) {
	b.mu.Lock()
	switch {
	case rid <= b.rid:
		// A retransmission (§14.3): the same answer again, if kept.
		answer, ok := b.answers[rid]
		held := slices.Contains(b.held, rid)
		b.mu.Unlock()
		if ok {
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			w.Write(answer)
			return
		}
		if !held {
			boshTerminate(w, http.StatusNotFound, "item-not-found")
			return
		}
		boshTerminate(w, http.StatusBadRequest, "bad-request") // the original is still held
		return
	case rid != b.rid+1:
		b.mu.Unlock()
		boshTerminate(w, http.StatusNotFound, "item-not-found") // outside the window (§14.2)
		return
	case len(b.held) >= boshRequests:
		b.mu.Unlock()
		boshTerminate(w, http.StatusForbidden, "policy-violation") // overactivity (§12)
		return
	}
	b.rid = rid
	b.mu.Unlock()
	b.touch()

	var toks []xmlstream.Token
	if restartAttr(body) {
		toks = append(toks, xmlstream.Token{Kind: xmlstream.StreamStart, El: streamHeader(body)})
	}
	for _, c := range body.Children {
		toks = append(toks, xmlstream.Token{Kind: xmlstream.StreamElement, El: inClient(c)})
	}
	terminate := body.Get("type") == "terminate"
	if terminate {
		toks = append(toks, xmlstream.Token{Kind: xmlstream.StreamEnd})
	}
	if len(toks) > 0 {
		b.push(toks...)
	}
	wait := time.Duration(boshMaxWait) * time.Second
	if terminate {
		wait = 0
	}
	frames, ended := b.collect(r.Context(), rid, wait)
	b.answer(w, rid, "", frames, ended || terminate)
	b.touch()
}

// restartAttr finds xmpp:restart whatever prefix the client bound the
// xbosh namespace to.
func restartAttr(body *xmlstream.Element) bool {
	for _, a := range body.Attr {
		if (a.Name == "restart" || strings.HasSuffix(a.Name, ":restart")) && a.Value == "true" {
			return true
		}
	}
	return false
}

// inClient moves elements that inherited the httpbind namespace (a client
// that left out xmlns='jabber:client') to jabber:client.
func inClient(el *xmlstream.Element) *xmlstream.Element {
	if el.Space != nsHTTPBind {
		return el
	}
	c := *el
	c.Space, c.Raw = stanza.NSClient, nil
	c.Children = make([]*xmlstream.Element, len(el.Children))
	for i, ch := range el.Children {
		c.Children[i] = inClient(ch)
	}
	return &c
}

// touch marks the session active for the idle sweeper: a BOSH client is
// there as long as it makes requests.
func (b *boshSession) touch() { b.lastRead.Store(b.clock.Now().Unix()) }

// collect holds request rid until there are frames for it, the stream
// ended, a newer request displaces it (hold), wait passes or the client
// goes.
func (b *boshSession) collect(ctx context.Context, rid int64, wait time.Duration) ([][]byte, bool) {
	b.mu.Lock()
	b.held = append(b.held, rid)
	// A request beyond 'hold' releases the oldest held one (§10).
	if len(b.held) > boshHold {
		b.notify()
	}
	b.mu.Unlock()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		b.mu.Lock()
		displaced := len(b.held) > boshHold && b.held[0] == rid
		if len(b.out) > 0 || b.ended || displaced {
			frames, ended := b.out, b.ended && len(b.in) == 0
			b.out = nil
			b.held = slices.DeleteFunc(b.held, func(x int64) bool { return x == rid })
			b.mu.Unlock()
			return frames, ended
		}
		ch := b.changed
		b.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			b.mu.Lock()
			b.held = slices.DeleteFunc(b.held, func(x int64) bool { return x == rid })
			b.mu.Unlock()
			return nil, false
		case <-ctx.Done():
			b.mu.Lock()
			b.held = slices.DeleteFunc(b.held, func(x int64) bool { return x == rid })
			b.mu.Unlock()
			return nil, false
		}
	}
}

// answer writes the response body and keeps it for retransmission.
func (b *boshSession) answer(w http.ResponseWriter, rid int64, attrs string, frames [][]byte, ended bool) {
	var buf []byte
	buf = append(buf, "<body xmlns='"+nsHTTPBind+"'"...)
	if attrs != "" {
		buf = append(buf, ' ')
		buf = append(buf, attrs...)
	}
	if ended {
		buf = append(buf, " type='terminate'"...)
		b.mu.Lock()
		stErr := b.stErr
		b.mu.Unlock()
		if stErr {
			buf = append(buf, " condition='remote-stream-error'"...)
		}
	}
	buf = append(buf, '>')
	for _, f := range frames {
		buf = append(buf, f...)
	}
	buf = append(buf, "</body>"...)
	b.mu.Lock()
	b.answers[rid] = buf
	delete(b.answers, rid-boshWindow) // keep the last few (§14.3)
	b.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(buf)
}

// boshTerminate answers a request that cannot be served (XEP-0124 §17).
func boshTerminate(w http.ResponseWriter, status int, condition string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte("<body xmlns='" + nsHTTPBind + "' type='terminate' condition='" + condition + "'/>"))
}

func (s *Server) lookupBOSH(sid string) *boshSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.boshSessions[sid]
}

func (s *Server) dropBOSH(sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.boshSessions, sid)
}
