package redis

import (
	"encoding/json"
	"fmt"
	"time"

	"herald/domain"
)

// storedAccountV1 is an account as the view stores it: versioned JSON, credentials hashed as
// the account holds them, users and tokens under their map keys.
type storedAccountV1 struct {
	V         int                      `json:"v"`
	Name      string                   `json:"name"`
	CreatedAt string                   `json:"created_at,omitempty"`
	Revision  uint64                   `json:"revision"`
	Deleted   bool                     `json:"deleted,omitempty"`
	Users     map[string]*storedUserV1 `json:"users,omitempty"`
	// RetentionS is the account's own retention in seconds (0: the server's default).
	RetentionS int64 `json:"retention_s,omitempty"`
}

type storedUserV1 struct {
	Name         string                   `json:"name"`
	Role         domain.Role              `json:"role"`
	PasswordHash string                   `json:"password_hash,omitempty"`
	Removed      bool                     `json:"removed,omitempty"`
	Tokens       map[string]storedTokenV1 `json:"tokens,omitempty"`
}

type storedTokenV1 struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	Hash        string `json:"hash"`
	IssuedAt    string `json:"issued_at,omitempty"`
	ExpiresAt   string `json:"expires_at,omitempty"`
	Revoked     bool   `json:"revoked,omitempty"`
}

// encodeAccount writes a as stored.
func encodeAccount(a *domain.Account) ([]byte, error) {
	w := storedAccountV1{V: storedVersion, Name: a.Name, CreatedAt: formatTime(a.CreatedAt), Revision: a.Revision, Deleted: a.Deleted,
		RetentionS: int64(a.Retention / time.Second)}
	if len(a.Users) > 0 {
		w.Users = make(map[string]*storedUserV1, len(a.Users))
	}
	for name, u := range a.Users {
		if u == nil {
			w.Users[name] = nil
			continue
		}
		su := &storedUserV1{Name: u.Name, Role: u.Role, PasswordHash: u.PasswordHash, Removed: u.Removed}
		if len(u.Tokens) > 0 {
			su.Tokens = make(map[string]storedTokenV1, len(u.Tokens))
		}
		for id, t := range u.Tokens {
			su.Tokens[id] = storedTokenV1{
				ID: t.ID, Description: t.Description, Hash: t.Hash,
				IssuedAt: formatTime(t.IssuedAt), ExpiresAt: formatTime(t.ExpiresAt), Revoked: t.Revoked,
			}
		}
		w.Users[name] = su
	}
	data, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode account %s: %w", a.Name, err)
	}
	return data, nil
}

// decodeAccount reads what encodeAccount wrote. Its maps are never nil, so that facts can
// be applied to the account read.
func decodeAccount(data []byte) (domain.Account, error) {
	var w storedAccountV1
	if err := json.Unmarshal(data, &w); err != nil {
		return domain.Account{}, fmt.Errorf("decode account: %w", err)
	}
	if w.V != storedVersion {
		return domain.Account{}, fmt.Errorf("decode account %s v%d: %w", w.Name, w.V, errUnknownVersion)
	}
	created, err := parseTime(w.CreatedAt)
	if err != nil {
		return domain.Account{}, fmt.Errorf("decode account %s: %w", w.Name, err)
	}
	a := domain.Account{Name: w.Name, CreatedAt: created, Revision: w.Revision, Deleted: w.Deleted, Users: make(map[string]*domain.User, len(w.Users)),
		Retention: time.Duration(w.RetentionS) * time.Second}
	for name, su := range w.Users {
		if su == nil {
			a.Users[name] = nil
			continue
		}
		u := &domain.User{Name: su.Name, Role: su.Role, PasswordHash: su.PasswordHash, Removed: su.Removed, Tokens: make(map[string]domain.Token, len(su.Tokens))}
		for id, st := range su.Tokens {
			t := domain.Token{ID: st.ID, Description: st.Description, Hash: st.Hash, Revoked: st.Revoked}
			if t.IssuedAt, err = parseTime(st.IssuedAt); err != nil {
				return domain.Account{}, fmt.Errorf("decode account %s: token %s: %w", w.Name, id, err)
			}
			if t.ExpiresAt, err = parseTime(st.ExpiresAt); err != nil {
				return domain.Account{}, fmt.Errorf("decode account %s: token %s: %w", w.Name, id, err)
			}
			u.Tokens[id] = t
		}
		a.Users[name] = u
	}
	return a, nil
}

// encodeOwner and decodeOwner write and read the account and user a token belongs to.
func encodeOwner(account, user string) []byte {
	data, _ := json.Marshal([2]string{account, user}) // strings always encode
	return data
}

func decodeOwner(data []byte) (account, user string, err error) {
	var w [2]string
	if err := json.Unmarshal(data, &w); err != nil {
		return "", "", fmt.Errorf("decode token owner: %w", err)
	}
	return w[0], w[1], nil
}
