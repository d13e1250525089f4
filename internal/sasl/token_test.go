package sasl

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strconv"
	"testing"
)

// htStep runs an HT exchange's one step and checks its outcome (want ""
// for success).
func htStep(t *testing.T, mech string, cfg *Config, offer Offer, in []byte, want Condition) (*Server, []byte) {
	t.Helper()
	s, err := NewServerOn(mech, cfg, offer)
	if err != nil {
		t.Fatal(err)
	}
	out, done, err := s.Step(context.Background(), in)
	var f *Failure
	switch {
	case want == "" && (err != nil || !done):
		t.Fatalf("failed: %v", err)
	case want != "" && (!errors.As(err, &f) || f.Condition != want):
		t.Fatalf("err %v, want %s", err, want)
	}
	return s, out
}

func htToken(token, mech string, expired bool) Token {
	v := sha256.Sum256(htProof(token, "Initiator", nil))
	return Token{Verifier: v[:], Responder: htProof(token, "Responder", nil), Mechanism: mech, Expired: expired}
}

// TestHashedToken: HT-SHA-256-NONE accepts either slot's token and
// answers with the responder message; a wrong token, one issued for
// another mechanism, an expired one and malformed messages fail.
func TestHashedToken(t *testing.T) {
	cfg := testConfig(t)
	tokens := []Token{htToken("new-token", HTSHA256None, false), htToken("old-token", HTSHA256None, false),
		htToken("endp-token", "HT-SHA-256-ENDP", false), htToken("stale-token", HTSHA256None, true)}
	lookup := func(_ context.Context, user string) ([]Token, error) {
		if user != "juliet" {
			return nil, ErrUnknownUser
		}
		return tokens, nil
	}
	for i, tc := range []struct {
		in   []byte
		want Condition // "" for success
		used int
	}{
		0: {append([]byte("juliet\x00"), htProof("new-token", "Initiator", nil)...), "", 0},
		1: {append([]byte("juliet\x00"), htProof("old-token", "Initiator", nil)...), "", 1},
		2: {append([]byte("juliet\x00"), htProof("wrong", "Initiator", nil)...), NotAuthorized, -1},
		3: {append([]byte("juliet\x00"), htProof("endp-token", "Initiator", nil)...), NotAuthorized, -1},
		4: {append([]byte("juliet\x00"), htProof("stale-token", "Initiator", nil)...), CredentialsExpired, -1},
		5: {append([]byte("romeo\x00"), htProof("new-token", "Initiator", nil)...), NotAuthorized, -1},
		6: {append([]byte("juliet\x00"), htProof("new-token", "Responder", nil)...), NotAuthorized, -1},
		7: {[]byte("juliet\x00short"), MalformedRequest, -1},
		8: {htProof("new-token", "Initiator", nil), MalformedRequest, -1},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s, out := htStep(t, HTSHA256None, cfg, Offer{Channel: Channel{Secure: true}, Tokens: lookup}, tc.in, tc.want)
			if tc.want == "" && (!hmac.Equal(out, tokens[tc.used].Responder) || s.Username() != "juliet") {
				t.Fatalf("out %x, user %q", out, s.Username())
			}
			if s.TokenUsed() != tc.used {
				t.Fatalf("TokenUsed %d, want %d", s.TokenUsed(), tc.used)
			}
		})
	}
	if _, err := NewServerOn(HTSHA256None, cfg, Offer{}); !errors.Is(err, &Failure{Condition: InvalidMechanism}) {
		t.Fatalf("HT without tokens: %v", err)
	}
}

// htProof is the client's side of draft-schmaus-kitten-sasl-ht §3.1,
// written here from the draft: HMAC(token, label || cb-data), cb-data
// empty for -NONE.
func htProof(token, label string, cb []byte) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(label))
	m.Write(cb)
	return m.Sum(nil)
}

// TestHashedTokenBound: HT-SHA-256-EXPR and -ENDP prove the token over
// the connection's binding of their type: a proof over another binding,
// over none, or with a token issued for the other mechanism fails; the
// answer is bound the same way. Neither is offered, nor can start,
// without its binding.
func TestHashedTokenBound(t *testing.T) {
	cfg := testConfig(t)
	exporter, endpoint := []byte("exporter-32-bytes-of-this-conn.."), []byte("hash-of-the-server-certificate..")
	ch := Channel{Secure: true, Bindings: map[string][]byte{TLSExporter: exporter, TLSServerEndPoint: endpoint}}
	if got := HTMechanisms(ch); len(got) != 3 || got[0] != HTSHA256Expr || got[1] != HTSHA256Endp || got[2] != HTSHA256None {
		t.Fatalf("offered %v", got)
	}
	seedE, seedP := []byte("seed of the exporter token"), []byte("seed of the end-point token")
	expr, endp := BoundToken(cfg, "juliet", "phone", seedE), BoundToken(cfg, "juliet", "phone", seedP)
	if expr == BoundToken(cfg, "romeo", "phone", seedE) || expr == BoundToken(cfg, "juliet", "tablet", seedE) {
		t.Fatal("a bound token does not depend on its account and device")
	}
	tokens := []Token{{Key: []byte(expr), Mechanism: HTSHA256Expr}, {Key: []byte(endp), Mechanism: HTSHA256Endp}}
	lookup := func(_ context.Context, user string) ([]Token, error) { return tokens, nil }
	for i, tc := range []struct {
		mech  string
		proof []byte
		want  Condition
		cb    []byte // of the answer
	}{
		0: {HTSHA256Expr, htProof(expr, "Initiator", exporter), "", exporter},
		1: {HTSHA256Endp, htProof(endp, "Initiator", endpoint), "", endpoint},
		2: {HTSHA256Expr, htProof(expr, "Initiator", []byte("another connection's exporter..")), NotAuthorized, nil},
		3: {HTSHA256Expr, htProof(expr, "Initiator", nil), NotAuthorized, nil},
		4: {HTSHA256Expr, htProof(expr, "Initiator", endpoint), NotAuthorized, nil},
		5: {HTSHA256Endp, htProof(expr, "Initiator", endpoint), NotAuthorized, nil}, // issued for -EXPR
		6: {HTSHA256None, htProof(expr, "Initiator", nil), NotAuthorized, nil},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s, out := htStep(t, tc.mech, cfg, Offer{Channel: ch, Tokens: lookup}, append([]byte("juliet\x00"), tc.proof...), tc.want)
			if tc.want == "" && !hmac.Equal(out, htProof(string(tokens[s.TokenUsed()].Key), "Responder", tc.cb)) {
				t.Fatalf("responder %x", out)
			}
		})
	}
	tls12 := Channel{Secure: true, Bindings: map[string][]byte{TLSServerEndPoint: endpoint}}
	if got := HTMechanisms(tls12); len(got) != 2 || got[0] != HTSHA256Endp {
		t.Fatalf("offered without tls-exporter: %v", got)
	}
	if _, err := NewServerOn(HTSHA256Expr, cfg, Offer{Channel: tls12, Tokens: lookup}); !errors.Is(err, &Failure{Condition: InvalidMechanism}) {
		t.Fatalf("-EXPR without tls-exporter: %v", err)
	}
	if got := HTMechanisms(Channel{}); got != nil {
		t.Fatalf("offered on an insecure stream: %v", got)
	}
}
