package secrets

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Passwords hashes passwords with bcrypt.
type Passwords struct {
	cost int
}

// NewPasswords returns a hasher; cost 0 means bcrypt.DefaultCost (tests use bcrypt.MinCost).
func NewPasswords(cost int) Passwords {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	return Passwords{cost: cost}
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 8

// Hash hashes a password.
func (p Passwords) Hash(password string) (string, error) {
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return "", fmt.Errorf("password is %d characters long; use at least %d", n, MinPasswordLength)
	}
	if len(password) > 72 {
		return "", errors.New("password is longer than 72 bytes, which bcrypt cannot hash")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), p.cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Verify tells whether password matches hash.
func (Passwords) Verify(hash, password string) bool {
	return hash != "" && bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// TokenPrefix starts every API token, so that leaked tokens are easy to recognise and scan for.
const TokenPrefix = "hrld_"

// NewToken makes an API token: TokenPrefix + id + "_" + secret. It returns the token (shown
// once), its id and the digest of its secret (the only part stored).
func NewToken() (token, id, digest string, err error) {
	var idb [8]byte
	var sec [32]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return "", "", "", fmt.Errorf("new token: %w", err)
	}
	if _, err := rand.Read(sec[:]); err != nil {
		return "", "", "", fmt.Errorf("new token: %w", err)
	}
	id = hex.EncodeToString(idb[:])
	secret := hex.EncodeToString(sec[:])
	return TokenPrefix + id + "_" + secret, id, TokenDigest(secret), nil
}

// SplitToken reads a token into its id and secret.
func SplitToken(token string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(token, TokenPrefix)
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, "_")
}

// TokenDigest is the stored form of a token's secret. Tokens carry 256 random bits, so a fast
// digest is enough; a slow password hash would only slow down every request.
func TokenDigest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// TokenMatches compares a secret with a stored digest in constant time.
func TokenMatches(digest, secret string) bool {
	return subtle.ConstantTimeCompare([]byte(digest), []byte(TokenDigest(secret))) == 1
}
