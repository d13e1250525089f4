package c2s

import (
	"crypto/tls"
	"crypto/x509"

	"parley/internal/sasl"
)

// Channel binding (RFC 5056) for the SCRAM -PLUS mechanisms: tls-exporter
// (RFC 9266) comes from the connection's TLS state; tls-server-end-point
// (RFC 5929) is a hash of the certificate the server presented, which a
// server's tls.ConnectionState does not hold, so each TLS connection gets
// a configuration that records it.

const nsSASLCB = "urn:xmpp:sasl-cb:0" // XEP-0440

// tlsFor returns cfg for one connection, recording the certificate it
// presents into *cert. It costs a copy of the configuration (about 460
// bytes) per TLS connection.
func tlsFor(cfg *tls.Config, cert **x509.Certificate) *tls.Config {
	c := cfg.Clone()
	c.GetCertificate = func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		chosen, err := pickCertificate(cfg, h)
		if err != nil || chosen == nil {
			return chosen, err
		}
		leaf := chosen.Leaf
		if leaf == nil && len(chosen.Certificate) > 0 {
			leaf, _ = x509.ParseCertificate(chosen.Certificate[0])
		}
		*cert = leaf
		return chosen, nil
	}
	return c
}

// pickCertificate chooses as crypto/tls would: GetCertificate if set,
// else the first of Certificates the client supports, else the first.
func pickCertificate(cfg *tls.Config, h *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if cfg.GetCertificate != nil {
		if c, err := cfg.GetCertificate(h); c != nil || err != nil {
			return c, err
		}
	}
	if len(cfg.Certificates) == 0 {
		return nil, nil // crypto/tls then fails the handshake
	}
	for i := range cfg.Certificates {
		if h.SupportsCertificate(&cfg.Certificates[i]) == nil {
			return &cfg.Certificates[i], nil
		}
	}
	return &cfg.Certificates[0], nil
}

// channel describes the session's connection to the SASL exchange: only a
// TLS connection this server terminates has anything to bind to (behind a
// proxy, or over WebSocket, the stream is secure but unbound).
func (s *session) channel() sasl.Channel {
	if !s.secure {
		return sasl.Channel{}
	}
	if tf, ok := s.fr.(*tcpFraming); ok {
		if tc, ok := tf.conn.(*tls.Conn); ok {
			return sasl.TLSChannel(tc.ConnectionState(), s.tlsCert)
		}
	}
	return sasl.Channel{Secure: true}
}

// appendMechanisms appends a <mechanism/> for each of mechs, as SASL
// (RFC 6120 §6.4.1), SASL2 (XEP-0388 §2.1) and FAST (XEP-0484 §4.1) list
// them.
func appendMechanisms(b []byte, mechs []string) []byte {
	for _, m := range mechs {
		b = append(b, "<mechanism>"+m+"</mechanism>"...)
	}
	return b
}

// appendChannelBinding advertises the binding types of ch (XEP-0440 §2).
func appendChannelBinding(b []byte, ch sasl.Channel) []byte {
	t := ch.Types()
	if len(t) == 0 {
		return b
	}
	b = append(b, "<sasl-channel-binding xmlns='"+nsSASLCB+"'>"...)
	for _, typ := range t {
		b = append(b, "<channel-binding type='"+typ+"'/>"...)
	}
	return append(b, "</sasl-channel-binding>"...)
}
