package domain_test

import (
	"testing"
	"time"

	"herald/domain"
)

func TestAccountFacts_roundTripAndApply(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	facts := []any{
		domain.AccountCreated{Name: "alice", At: at},
		domain.UserAdded{User: "ann", Role: domain.RoleReadOnly, PasswordHash: "$2a$10$hash", At: at},
		domain.RoleGranted{User: "ann", Role: domain.RoleReadWrite, At: at},
		domain.TokenIssued{User: "ann", Token: domain.Token{ID: "t1", Description: "ci", Hash: "h", IssuedAt: at, ExpiresAt: at.Add(time.Hour)}},
		domain.TokenRevoked{User: "ann", TokenID: "t1", At: at},
		domain.PasswordChanged{User: "ann", PasswordHash: "$2a$10$new", At: at},
		domain.RetentionSet{MaxAge: 30 * 24 * time.Hour, At: at},
	}
	var a domain.Account
	for i, f := range facts {
		enc, err := domain.EncodeAccountFact(f)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := domain.DecodeAccountFact(enc.Type, enc.Data)
		if err != nil {
			t.Fatal(err)
		}
		a.Apply(dec, uint64(i))
	}
	u, err := a.ActiveUser("ann")
	if err != nil || u.Role != domain.RoleReadWrite || u.PasswordHash != "$2a$10$new" || !u.Tokens["t1"].Revoked || !u.Tokens["t1"].ExpiresAt.Equal(at.Add(time.Hour)) {
		t.Fatalf("account %+v user %+v %v", a, u, err)
	}
	if _, err := a.ActiveUser("bob"); err == nil {
		t.Fatal("unknown user found")
	}
	if a.Retention != 30*24*time.Hour {
		t.Fatalf("retention %v after RetentionSet, want 720h", a.Retention)
	}
	for name, want := range map[string]bool{"alice": true, "ops@acme.com": true, "": false, "a b": false, "x/y": false} {
		if domain.ValidAccountName(name) != want {
			t.Errorf("ValidAccountName(%q) != %v", name, want)
		}
	}
}
