package sasl

import (
	"context"
	"errors"
	"testing"
)

// FuzzSCRAMStep drives an exchange with two arbitrary client messages, on
// a channel with bindings and a XEP-0474 offer and with FAST tokens (so
// -PLUS and HT-SHA-256-NONE are reached too). The server nonce is fixed
// so the fuzzer can reach the proof check. Whatever the input: no panic,
// every error is a *Failure, and success names a user.
func FuzzSCRAMStep(f *testing.F) {
	f.Add(uint8(0), []byte("n,,n=user,r=abc"), []byte("c=biws,r=abcSNONCE,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	f.Add(uint8(1), []byte("y,a=user@example.com,n=user,r=abc,x=1"), []byte("c=eSxhPXVzZXJAZXhhbXBsZS5jb20s,r=abcSNONCE,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="))
	f.Add(uint8(2), []byte("\x00user\x00pencil"), []byte(""))
	f.Add(uint8(0), []byte(""), []byte("n,,n=us=2Cer,r=abc"))
	f.Add(uint8(3), []byte("p=tls-exporter,,n=user,r=abc"), []byte("c=cD10bHMtZXhwb3J0ZXIsLGNiLWRhdGE=,r=abcSNONCE,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	f.Add(uint8(4), []byte("p=tls-server-end-point,,n=user,r=abc"), []byte("c=biws,r=abcSNONCE,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="))
	f.Add(uint8(5), append([]byte("user\x00"), htProof("token", "Initiator", nil)...), []byte(""))
	cfg := testConfig(f)
	ch := Channel{Secure: true, Bindings: map[string][]byte{TLSExporter: []byte("cb-data"), TLSServerEndPoint: []byte("end-point")}}
	offer := Offer{Channel: ch, Mechanisms: Mechanisms(ch), Tokens: func(context.Context, string) ([]Token, error) {
		return []Token{htToken("token", HTSHA256None, false)}, nil
	}}
	f.Fuzz(func(t *testing.T, mech uint8, first, final []byte) {
		name := []string{ScramSHA256, ScramSHA1, Plain, ScramSHA256Plus, ScramSHA1Plus, HTSHA256None}[int(mech)%6]
		s, err := NewServerOn(name, cfg, offer)
		if err != nil {
			t.Fatal(err)
		}
		s.nonce = fixedNonce("SNONCE")
		ctx := context.Background()
		for _, in := range [][]byte{first, final} {
			_, done, err := s.Step(ctx, in)
			var fl *Failure
			if err != nil && !errors.As(err, &fl) {
				t.Fatalf("error %v is not a *Failure", err)
			}
			if done != (s.Username() != "") {
				t.Fatalf("done %v but Username %q", done, s.Username())
			}
			if err != nil || done {
				return
			}
		}
	})
}
