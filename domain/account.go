package domain

import (
	"errors"
	"fmt"
	"time"
)

// Account is a tenant of herald: its users, their roles, credentials and API tokens. It is an
// aggregate changed only by its facts (Apply). Credentials are kept hashed.
type Account struct {
	Name      string
	CreatedAt time.Time
	Users     map[string]*User
	// Retention is the maximum age of the account's events (0: the server's --retention).
	Retention time.Duration
	Revision  uint64
	Deleted   bool
}

// User is a person or service of an account.
type User struct {
	Name         string
	Role         Role
	PasswordHash string // empty: the user signs in with tokens only
	Tokens       map[string]Token
	Removed      bool
}

// Token is an API token of a user. Only a hash of its secret is kept; the secret itself is
// shown once, when issued.
type Token struct {
	ID          string
	Description string
	Hash        string // hash of the secret part
	IssuedAt    time.Time
	ExpiresAt   time.Time // zero: never
	Revoked     bool
}

// AccountStream names the stream of an account.
func AccountStream(name string) string { return AccountStreamPrefix + name }

// AccountStreamPrefix is the prefix of account streams.
const AccountStreamPrefix = "account-"

// Errors of accounts.
var (
	ErrAccountNotFound = errors.New("account not found")
	ErrUserNotFound    = errors.New("user not found")
	ErrTokenNotFound   = errors.New("token not found")
)

// AccountNameRule says, for error messages, which names ValidAccountName takes.
const AccountNameRule = "1 to 64 letters, digits, . _ @ -"

// ValidAccountName tells whether s may name an account or a user: 1 to 64 characters,
// letters, digits, and . _ @ - (so that e-mail addresses work as user names).
func ValidAccountName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '@') {
			return false
		}
	}
	return true
}

// Facts of accounts.
type (
	AccountCreated struct {
		Name string
		At   time.Time
	}
	AccountDeleted struct {
		At time.Time
	}
	// RetentionSet sets the maximum age of the account's events (0: the server's default).
	RetentionSet struct {
		MaxAge time.Duration
		At     time.Time
	}
	UserAdded struct {
		User         string
		Role         Role
		PasswordHash string
		At           time.Time
	}
	UserRemoved struct {
		User string
		At   time.Time
	}
	RoleGranted struct {
		User string
		Role Role
		At   time.Time
	}
	PasswordChanged struct {
		User         string
		PasswordHash string
		At           time.Time
	}
	TokenIssued struct {
		User  string
		Token Token
	}
	TokenRevoked struct {
		User    string
		TokenID string
		At      time.Time
	}
)

// Apply changes the account by one of its facts.
func (a *Account) Apply(fact any, revision uint64) {
	switch f := fact.(type) {
	case AccountCreated:
		*a = Account{Name: f.Name, CreatedAt: f.At, Users: map[string]*User{}}
	case AccountDeleted:
		a.Deleted = true
	case RetentionSet:
		a.Retention = f.MaxAge
	case UserAdded:
		a.Users[f.User] = &User{Name: f.User, Role: f.Role, PasswordHash: f.PasswordHash, Tokens: map[string]Token{}}
	case UserRemoved:
		if u := a.Users[f.User]; u != nil {
			u.Removed = true
		}
	case RoleGranted:
		if u := a.Users[f.User]; u != nil {
			u.Role = f.Role
		}
	case PasswordChanged:
		if u := a.Users[f.User]; u != nil {
			u.PasswordHash = f.PasswordHash
		}
	case TokenIssued:
		if u := a.Users[f.User]; u != nil {
			u.Tokens[f.Token.ID] = f.Token
		}
	case TokenRevoked:
		if u := a.Users[f.User]; u != nil {
			if t, ok := u.Tokens[f.TokenID]; ok {
				t.Revoked = true
				u.Tokens[f.TokenID] = t
			}
		}
	}
	a.Revision = revision
}

// ActiveUser returns a user that exists and was not removed.
func (a *Account) ActiveUser(name string) (*User, error) {
	u := a.Users[name]
	if u == nil || u.Removed {
		return nil, fmt.Errorf("user %s of account %s: %w", name, a.Name, ErrUserNotFound)
	}
	return u, nil
}

// Clone returns a deep copy, so that applying facts to it leaves the original untouched.
func (a Account) Clone() Account {
	users := make(map[string]*User, len(a.Users))
	for name, u := range a.Users {
		c := *u
		c.Tokens = make(map[string]Token, len(u.Tokens))
		for id, t := range u.Tokens {
			c.Tokens[id] = t
		}
		users[name] = &c
	}
	a.Users = users
	return a
}
