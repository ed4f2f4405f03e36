package domain_test

import (
	"testing"

	"herald/domain"
)

func TestTruncate_keepsCharactersNotBytes(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"vulnérabilité", 13, "vulnérabilité"},
		{"vulnérabilité", 6, "vulné…"},
		{"🚨🚨🚨", 2, "🚨…"},
		{"abc", 0, "abc"},
	} {
		if got := domain.Truncate(tc.s, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
