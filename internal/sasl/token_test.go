package sasl

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strconv"
	"testing"
)

// htProof is the client's side of draft-schmaus-kitten-sasl-ht §3.1 for
// -NONE, written here from the draft.
func htProof(token, label string) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(label))
	return m.Sum(nil)
}

func htToken(token, mech string, expired bool) Token {
	v := sha256.Sum256(htProof(token, "Initiator"))
	return Token{Verifier: v[:], Responder: htProof(token, "Responder"), Mechanism: mech, Expired: expired}
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
		0: {append([]byte("juliet\x00"), htProof("new-token", "Initiator")...), "", 0},
		1: {append([]byte("juliet\x00"), htProof("old-token", "Initiator")...), "", 1},
		2: {append([]byte("juliet\x00"), htProof("wrong", "Initiator")...), NotAuthorized, -1},
		3: {append([]byte("juliet\x00"), htProof("endp-token", "Initiator")...), NotAuthorized, -1},
		4: {append([]byte("juliet\x00"), htProof("stale-token", "Initiator")...), CredentialsExpired, -1},
		5: {append([]byte("romeo\x00"), htProof("new-token", "Initiator")...), NotAuthorized, -1},
		6: {append([]byte("juliet\x00"), htProof("new-token", "Responder")...), NotAuthorized, -1},
		7: {[]byte("juliet\x00short"), MalformedRequest, -1},
		8: {htProof("new-token", "Initiator"), MalformedRequest, -1},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s, err := NewServerOn(HTSHA256None, cfg, Offer{Channel: Channel{Secure: true}, Tokens: lookup})
			if err != nil {
				t.Fatal(err)
			}
			out, done, err := s.Step(context.Background(), tc.in)
			var f *Failure
			switch {
			case tc.want == "" && (err != nil || !done):
				t.Fatalf("failed: %v", err)
			case tc.want != "" && (!errors.As(err, &f) || f.Condition != tc.want):
				t.Fatalf("err %v, want %s", err, tc.want)
			}
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
