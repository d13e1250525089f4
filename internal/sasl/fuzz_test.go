package sasl

import (
	"context"
	"errors"
	"testing"
)

// FuzzSCRAMStep drives an exchange with two arbitrary client messages. The
// server nonce is fixed so the fuzzer can reach the proof check. Whatever
// the input: no panic, every error is a *Failure, and success names a user.
func FuzzSCRAMStep(f *testing.F) {
	f.Add(uint8(0), []byte("n,,n=user,r=abc"), []byte("c=biws,r=abcSNONCE,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	f.Add(uint8(1), []byte("y,a=user@example.com,n=user,r=abc,x=1"), []byte("c=eSxhPXVzZXJAZXhhbXBsZS5jb20s,r=abcSNONCE,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="))
	f.Add(uint8(2), []byte("\x00user\x00pencil"), []byte(""))
	f.Add(uint8(0), []byte(""), []byte("n,,n=us=2Cer,r=abc"))
	cfg := testConfig(f)
	f.Fuzz(func(t *testing.T, mech uint8, first, final []byte) {
		name := []string{ScramSHA256, ScramSHA1, Plain}[int(mech)%3]
		s, err := NewServer(name, cfg)
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
