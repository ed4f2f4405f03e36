// Package secrets keeps credentials safe at rest: AES-256-GCM sealing of endpoint secrets
// under a key from the configuration, bcrypt hashes of passwords and SHA-256 digests of
// high-entropy API tokens.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// sealedPrefix marks a sealed value and its format; the key id lets a restart with another
// key fail clearly instead of producing garbage.
const sealedPrefix = "aesgcm1:"

// ErrWrongKey means a sealed value was sealed under another key than the configured one.
var ErrWrongKey = errors.New("secret sealed under another key: check HERALD_SECRET_KEY")

// ErrCorrupt means a sealed value cannot be read.
var ErrCorrupt = errors.New("sealed secret is corrupt")

// Sealer seals and opens secrets with AES-256-GCM.
type Sealer struct {
	aead  cipher.AEAD
	keyID string // first 8 hex digits of SHA-256(key): names the key without revealing it
}

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// ParseKey reads a key given as 64 hex digits or as base64 of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == KeySize {
			return b, nil
		}
	}
	return nil, fmt.Errorf("the secret key must be 32 bytes, written as 64 hex digits or base64 (make one with: openssl rand -hex 32)")
}

// NewSealer builds a sealer from a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("new sealer: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("new sealer: %w", err)
	}
	sum := sha256.Sum256(key)
	return &Sealer{aead: aead, keyID: hex.EncodeToString(sum[:4])}, nil
}

// Seal encrypts plaintext; an empty plaintext stays empty (no secret set).
func (s *Sealer) Seal(plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	// The key id is authenticated data: a value moved between keys does not open.
	out := s.aead.Seal(nonce, nonce, []byte(plaintext), []byte(s.keyID))
	return sealedPrefix + s.keyID + ":" + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value sealed by Seal under the same key.
func (s *Sealer) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", ErrCorrupt
	}
	keyID, body, ok := strings.Cut(rest, ":")
	if !ok {
		return "", ErrCorrupt
	}
	if keyID != s.keyID {
		return "", fmt.Errorf("key %s, configured key %s: %w", keyID, s.keyID, ErrWrongKey)
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", ErrCorrupt
	}
	plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], []byte(s.keyID))
	if err != nil {
		return "", ErrCorrupt
	}
	return string(plain), nil
}

// KeyID names the key (a digest prefix), for logs.
func (s *Sealer) KeyID() string { return s.keyID }
