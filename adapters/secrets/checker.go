package secrets

// Checker checks passwords and API tokens (projections.CredentialChecker).
type Checker struct{ Passwords Passwords }

// VerifyPassword implements projections.CredentialChecker.
func (c Checker) VerifyPassword(hash, password string) bool {
	return c.Passwords.Verify(hash, password)
}

// SplitToken implements projections.CredentialChecker.
func (Checker) SplitToken(token string) (string, string, bool) { return SplitToken(token) }

// TokenMatches implements projections.CredentialChecker.
func (Checker) TokenMatches(digest, secret string) bool { return TokenMatches(digest, secret) }
