package xmpptest

import (
	"errors"
	"strconv"
	"testing"
)

// The examples of RFC 5802 §5 and RFC 7677 §3.
func TestScramVectors(t *testing.T) {
	tests := []struct {
		mech, cnonce, serverFirst, clientFinal, serverFinal string
	}{
		{ScramSHA1, "fyko+d2lbbFgONRv9qkxdawL",
			"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
			"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
			"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="},
		{ScramSHA256, "rOprNGfwEbeRWgbNEkqO",
			"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
			"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c, err := newScram(tc.mech, "user", "pencil", nil)
			if err != nil {
				t.Fatal(err)
			}
			c.clientNonce = tc.cnonce
			if got, want := string(c.first()), "n,,n=user,r="+tc.cnonce; got != want {
				t.Fatalf("first = %q, want %q", got, want)
			}
			final, err := c.final([]byte(tc.serverFirst))
			if err != nil {
				t.Fatal(err)
			}
			if string(final) != tc.clientFinal {
				t.Fatalf("final = %q, want %q", final, tc.clientFinal)
			}
			if err := c.verify([]byte(tc.serverFinal)); err != nil {
				t.Fatalf("verify: %v", err)
			}
			if err := c.verify([]byte("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=x")); err == nil {
				t.Fatal("a wrong server signature was accepted")
			}
		})
	}
}

func TestScramRejects(t *testing.T) {
	tests := []struct {
		serverFirst string
		final       string // server-final, when serverFirst is fine
		want        error
	}{
		{serverFirst: "r=other,s=QSXCR+Q6sek8bf92,i=4096"},                         // nonce not extended
		{serverFirst: "r=abc,s=QSXCR+Q6sek8bf92,i=4096"},                           // nonce only echoed
		{serverFirst: "r=abcdef,s=!!!,i=4096"},                                     // salt not base64
		{serverFirst: "r=abcdef,s=QSXCR+Q6sek8bf92,i=0"},                           // no iterations
		{serverFirst: "r=abcdef,s=QSXCR+Q6sek8bf92,i=4096,r=x"},                    // repeated attribute
		{serverFirst: "m=ext,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096"},                  // mandatory extension
		{serverFirst: "r=abcdef,s=QSXCR+Q6sek8bf92,i=1", final: "e=invalid-proof"}, // server error
		{serverFirst: "r=abcdef,s=QSXCR+Q6sek8bf92,i=1", final: "v=AAAA", want: ErrServerSignature},
	}
	for i, tc := range tests {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			c, err := newScram(ScramSHA256, "user", "pencil", nil)
			if err != nil {
				t.Fatal(err)
			}
			c.clientNonce = "abc"
			c.first()
			_, err = c.final([]byte(tc.serverFirst))
			if tc.final == "" {
				if err == nil {
					t.Fatalf("server-first %q accepted", tc.serverFirst)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			err = c.verify([]byte(tc.final))
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("verify(%q) = %v, want %v", tc.final, err, tc.want)
			}
		})
	}
}

func TestSaslName(t *testing.T) {
	if got := saslName("a,b=c"); got != "a=2Cb=3Dc" {
		t.Fatalf("saslName = %q", got)
	}
}
