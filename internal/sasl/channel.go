package sasl

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"slices"
	"strings"
)

// Channel-binding types (RFC 5056 §2.1) parley offers with the -PLUS
// mechanisms, as named in IANA's registry and in XEP-0440.
const (
	// TLSExporter is RFC 9266: 32 bytes of keying material exported
	// under the label "EXPORTER-Channel-Binding" with no context. TLS
	// 1.3 only: RFC 9266 §3 forbids it over TLS 1.2 without the extended
	// master secret, and we do not offer it there at all.
	TLSExporter = "tls-exporter"
	// TLSServerEndPoint is RFC 5929 §4: a hash of the server's
	// certificate, so it binds to the certificate, not to the connection.
	TLSServerEndPoint = "tls-server-end-point"
)

// exporterLabel is RFC 9266 §2's label.
const exporterLabel = "EXPORTER-Channel-Binding"

// Channel is what an exchange knows of the connection under it.
type Channel struct {
	// Secure is true when TLS protects the stream (or a trusted proxy
	// terminated it). PLAIN and token mechanisms need it.
	Secure bool
	// Bindings holds the channel-binding data by type; empty where
	// nothing can be bound to (no TLS here, or a proxy terminates it).
	Bindings map[string][]byte
}

// Types returns the binding types of c, sorted ("i;octet", as XEP-0474
// hashes them).
func (c Channel) Types() []string {
	t := make([]string, 0, len(c.Bindings))
	for k := range c.Bindings {
		t = append(t, k)
	}
	slices.Sort(t)
	return t
}

// TLSChannel returns the channel of a completed server-side TLS
// connection. cert is the certificate the server presented (a server's
// ConnectionState does not hold its own certificate); nil leaves
// tls-server-end-point out.
func TLSChannel(cs tls.ConnectionState, cert *x509.Certificate) Channel {
	ch := Channel{Secure: true, Bindings: make(map[string][]byte, 2)}
	if cs.Version >= tls.VersionTLS13 {
		if b, err := cs.ExportKeyingMaterial(exporterLabel, nil, 32); err == nil {
			ch.Bindings[TLSExporter] = b
		}
	}
	if b := ServerEndPoint(cert); b != nil {
		ch.Bindings[TLSServerEndPoint] = b
	}
	return ch
}

// ServerEndPoint is the tls-server-end-point data of a certificate (RFC
// 5929 §4.1): its hash under the hash function of its signature
// algorithm, with MD5 and SHA-1 replaced by SHA-256. Certificates whose
// signature names no single hash (Ed25519) have none: nil.
func ServerEndPoint(cert *x509.Certificate) []byte {
	if cert == nil {
		return nil
	}
	var h crypto.Hash
	switch cert.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1,
		x509.SHA256WithRSA, x509.SHA256WithRSAPSS, x509.ECDSAWithSHA256, x509.DSAWithSHA256:
		h = crypto.SHA256
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		h = crypto.SHA384
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		h = crypto.SHA512
	default:
		return nil
	}
	if h == crypto.SHA256 {
		s := sha256.Sum256(cert.Raw)
		return s[:]
	}
	w := h.New()
	w.Write(cert.Raw)
	return w.Sum(nil)
}

// Offer is what the server advertised on the stream an exchange runs on.
type Offer struct {
	Channel Channel
	// Mechanisms is the list advertised in <mechanisms/> (or SASL2's
	// <authentication/>), hashed into XEP-0474's "h" attribute. Empty
	// leaves the attribute out.
	Mechanisms []string
	// Tokens, if set, verifies the HT-* (XEP-0484 FAST) mechanisms.
	Tokens TokenLookup
}

// plusOffered reports whether o advertises a -PLUS mechanism, so that a
// client saying "y" (RFC 5802 §6) is being downgraded.
func (o Offer) plusOffered() bool {
	for _, m := range o.Mechanisms {
		if strings.HasSuffix(m, "-PLUS") {
			return true
		}
	}
	return len(o.Mechanisms) == 0 && len(o.Channel.Bindings) > 0
}

// ssdp is XEP-0474 §5.1's downgrade protection hash: the sorted
// mechanisms joined by %x1E, then, as we advertise XEP-0440 whenever we
// have bindings, %x1F and the sorted binding types joined by %x1E; hashed
// with the exchange's hash, in base64.
func ssdp(h Hash, o Offer) string {
	m := slices.Clone(o.Mechanisms)
	slices.Sort(m)
	s := strings.Join(m, "\x1e")
	if t := o.Channel.Types(); len(t) > 0 {
		s += "\x1f" + strings.Join(t, "\x1e")
	}
	w := h.new()()
	w.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(w.Sum(nil))
}
