package secrets_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"herald/adapters/secrets"
)

func TestSealer_roundTripAndWrongKey(t *testing.T) {
	key, err := secrets.ParseKey(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := secrets.NewSealer(key)
	sealed, err := s.Seal("xoxb-slack-token")
	if err != nil || strings.Contains(sealed, "xoxb") {
		t.Fatalf("sealed %q %v", sealed, err)
	}
	if again, _ := s.Seal("xoxb-slack-token"); again == sealed {
		t.Fatal("sealing twice gave the same ciphertext: the nonce is not random")
	}
	if plain, err := s.Open(sealed); err != nil || plain != "xoxb-slack-token" {
		t.Fatalf("open: %q %v", plain, err)
	}
	other, _ := secrets.NewSealer([]byte(strings.Repeat("k", 32)))
	if _, err := other.Open(sealed); !errors.Is(err, secrets.ErrWrongKey) {
		t.Fatalf("opening under another key: %v", err)
	}
	if _, err := s.Open(sealed[:len(sealed)-4] + "AAAA"); !errors.Is(err, secrets.ErrCorrupt) {
		t.Fatalf("tampered value: %v", err)
	}
	if _, err := secrets.ParseKey("short"); err == nil || !strings.Contains(err.Error(), "openssl rand -hex 32") {
		t.Fatalf("short key: %v", err)
	}
}

func TestPasswordsAndTokens(t *testing.T) {
	p := secrets.NewPasswords(bcrypt.MinCost)
	h, err := p.Hash("correct horse")
	if err != nil || !p.Verify(h, "correct horse") || p.Verify(h, "wrong horse") {
		t.Fatalf("hash %q %v", h, err)
	}
	if _, err := p.Hash("short"); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	// the minimum counts characters, not bytes: four two-byte letters are four characters
	if _, err := p.Hash("éééé"); err == nil || !strings.Contains(err.Error(), "password is 4 characters long") {
		t.Errorf("a 4-character, 8-byte password: %v", err)
	}
	token, id, digest, err := secrets.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	gotID, secret, ok := secrets.SplitToken(token)
	if !ok || gotID != id || !secrets.TokenMatches(digest, secret) || secrets.TokenMatches(digest, secret+"x") {
		t.Fatalf("token %q id %q", token, id)
	}
}
