package sasl

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"parley/internal/store"
)

func TestPlain(t *testing.T) {
	cfg := testConfig(t)
	for i, tc := range []struct {
		in       string
		want     Condition // "" for success
		username string
	}{
		0:  {"\x00juliet\x00r0m30myr0m30", "", "juliet"},
		1:  {"juliet@example.com\x00juliet\x00r0m30myr0m30", "", "juliet"},
		2:  {"\x00Juliet\x00r0m30myr0m30", "", "juliet"},
		3:  {"\x00élan\x00pässwörd", "", "élan"},
		4:  {"\x00juliet\x00wrong", NotAuthorized, ""},
		5:  {"\x00romeo\x00r0m30myr0m30", NotAuthorized, ""},
		6:  {"\x00no@pe\x00x", NotAuthorized, ""},
		7:  {"romeo@example.com\x00juliet\x00r0m30myr0m30", InvalidAuthzid, ""},
		8:  {"juliet\x00r0m30myr0m30", MalformedRequest, ""},
		9:  {"\x00\x00r0m30myr0m30", MalformedRequest, ""},
		10: {"\x00juliet\x00", MalformedRequest, ""},
		11: {"\x00juliet\x00r0m30\x00myr0m30", MalformedRequest, ""},
		12: {"\x00juliet\x00\xff", MalformedRequest, ""},
		13: {"\x00juliet\x00" + strings.Repeat("x", MaxMessage), MalformedRequest, ""},
		14: {"\x00juliet\x00r0m30myr0m30\u0007", NotAuthorized, ""}, // PRECIS rejects
		15: {"\x00user\x00pencil", "", "user"},
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s, err := NewServer(Plain, cfg)
			if err != nil {
				t.Fatal(err)
			}
			out, done, err := s.Step(context.Background(), []byte(tc.in))
			if tc.want == "" {
				if err != nil || !done || len(out) != 0 {
					t.Fatalf("Step = %q, %v, %v; want success", out, done, err)
				}
			} else if !errors.Is(err, &Failure{Condition: tc.want}) || done {
				t.Fatalf("Step = %v, %v; want %s", done, err, tc.want)
			}
			if s.Username() != tc.username {
				t.Fatalf("Username() = %q, want %q", s.Username(), tc.username)
			}
		})
	}
}

// Accounts that only have SHA-1 keys can still use PLAIN.
func TestPlainSHA1Only(t *testing.T) {
	k1, err := DeriveKeys(SHA1, "pencil", testSalt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Domain: "example.com", Lookup: func(context.Context, string) (store.ScramKeys, store.ScramKeys, error) {
		return k1, store.ScramKeys{}, nil
	}}
	for i, tc := range []struct {
		pw string
		ok bool
	}{0: {"pencil", true}, 1: {"pencil!", false}} {
		s, _ := NewServer(Plain, cfg)
		_, done, err := s.Step(context.Background(), []byte("\x00user\x00"+tc.pw))
		if done != tc.ok || (err == nil) != tc.ok {
			t.Fatalf("%d: done %v, err %v", i, done, err)
		}
	}
}

func TestKeys(t *testing.T) {
	// RFC 7677 §3: SaltedPassword for "pencil" drives the vector in
	// TestVectors; here NewKeys must agree with DeriveKeys on its salt.
	k, err := NewKeys(SHA256, "pencil", 4096)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Salt) != SaltSize || k.Iterations != 4096 || len(k.StoredKey) != 32 || len(k.ServerKey) != 32 {
		t.Fatalf("NewKeys: %+v", k)
	}
	d, _ := DeriveKeys(SHA256, "pencil", k.Salt, 4096)
	if string(d.StoredKey) != string(k.StoredKey) || string(d.ServerKey) != string(k.ServerKey) {
		t.Fatal("DeriveKeys disagrees with NewKeys")
	}
	k2, _ := NewKeys(SHA256, "pencil", 4096)
	if string(k2.Salt) == string(k.Salt) {
		t.Fatal("NewKeys reused a salt")
	}
	// OpaqueString maps U+00A0 to U+0020 and applies NFC, so these
	// spellings are one password.
	a, _ := DeriveKeys(SHA1, "a\u00a0e\u0301", testSalt, 4096)
	b, _ := DeriveKeys(SHA1, "a \u00e9", testSalt, 4096)
	if string(a.StoredKey) != string(b.StoredKey) {
		t.Fatal("password not prepared with OpaqueString")
	}
	for i, tc := range []struct {
		h    Hash
		pw   string
		salt []byte
		it   int
		want error
	}{
		0: {SHA256, "pencil", testSalt, 4095, ErrIterations},
		1: {Hash(9), "pencil", testSalt, 4096, ErrUnknownHash},
		2: {SHA256, "pencil", nil, 4096, ErrEmptySalt},
		3: {SHA256, "", testSalt, 4096, ErrEmptyPassword},
		4: {SHA256, "a\x00b", testSalt, 4096, ErrPasswordPrep},
		5: {SHA256, "\xff", testSalt, 4096, ErrPasswordPrep},
	} {
		if _, err := DeriveKeys(tc.h, tc.pw, tc.salt, tc.it); !errors.Is(err, tc.want) {
			t.Errorf("%d: DeriveKeys error %v, want %v", i, err, tc.want)
		}
	}
	if _, err := NewKeys(SHA1, "pencil", 10); !errors.Is(err, ErrIterations) {
		t.Fatalf("NewKeys with 10 iterations: %v", err)
	}
}

// CheckPassword decides for the accounts it knows and hands the others
// to the stored keys; SCRAM never reaches it.
func TestPlainCheckPassword(t *testing.T) {
	cfg := *testConfig(t)
	var asked []string
	cfg.CheckPassword = func(_ context.Context, user, password string) error {
		asked = append(asked, user)
		switch {
		case user == "dir" && password == "right":
			return nil
		case user == "dir":
			return &Failure{Condition: NotAuthorized}
		case user == "gone":
			return &Failure{Condition: AccountDisabled}
		case user == "down":
			return errors.New("directory unreachable")
		}
		return ErrUnknownUser
	}
	for i, tc := range []struct {
		in   string
		want Condition
		user string
	}{
		0: {"\x00dir\x00right", "", "dir"},
		1: {"\x00DIR\x00right", "", "dir"}, // PRECIS first: the check sees the normalised name
		2: {"\x00dir\x00wrong", NotAuthorized, ""},
		3: {"\x00gone\x00x", AccountDisabled, ""},
		4: {"\x00down\x00x", TemporaryAuthFailure, ""},
		5: {"\x00juliet\x00r0m30myr0m30", "", "juliet"}, // local keys
		6: {"\x00juliet\x00wrong", NotAuthorized, ""},
		7: {"\x00no@pe\x00x", NotAuthorized, ""}, // not a localpart: never asked
	} {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			s, err := NewServer(Plain, &cfg)
			if err != nil {
				t.Fatal(err)
			}
			asked = nil
			_, done, err := s.Step(context.Background(), []byte(tc.in))
			if i == 7 && len(asked) != 0 {
				t.Fatalf("asked CheckPassword for %v", asked)
			}
			if tc.want == "" {
				if err != nil || !done || s.Username() != tc.user {
					t.Fatalf("Step = %v, %v (user %q); want success as %q", done, err, s.Username(), tc.user)
				}
			} else if !errors.Is(err, &Failure{Condition: tc.want}) {
				t.Fatalf("Step = %v, %v; want %s", done, err, tc.want)
			}
		})
	}
	asked = nil
	s, _ := NewServer(ScramSHA256, &cfg)
	if _, _, err := s.Step(context.Background(), []byte("n,,n=dir,r=abcdefgh")); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 0 {
		t.Fatalf("SCRAM asked CheckPassword for %v", asked)
	}
}
