package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// Fact types of accounts.
const (
	AccountCreatedType  = "AccountCreated"
	AccountDeletedType  = "AccountDeleted"
	RetentionSetType    = "RetentionSet"
	UserAddedType       = "UserAdded"
	UserRemovedType     = "UserRemoved"
	RoleGrantedType     = "RoleGranted"
	PasswordChangedType = "PasswordChanged"
	TokenIssuedType     = "TokenIssued"
	TokenRevokedType    = "TokenRevoked"
)

type accountFactV1 struct {
	V            int    `json:"v"`
	Name         string `json:"name,omitempty"`
	User         string `json:"user,omitempty"`
	Role         Role   `json:"role,omitempty"`
	PasswordHash string `json:"password_hash,omitempty"`
	TokenID      string `json:"token_id,omitempty"`
	Description  string `json:"description,omitempty"`
	TokenHash    string `json:"token_hash,omitempty"`
	ExpiresAt    string `json:"expires_at,omitempty"`
	RetentionS   int64  `json:"retention_s,omitempty"` // RetentionSet, in seconds
	At           string `json:"at"`
}

// EncodeAccountFact encodes one of the account facts.
func EncodeAccountFact(fact any) (Fact, error) {
	var w accountFactV1
	var typ string
	switch f := fact.(type) {
	case AccountCreated:
		typ, w.Name, w.At = AccountCreatedType, f.Name, FormatTimestamp(f.At)
	case AccountDeleted:
		typ, w.At = AccountDeletedType, FormatTimestamp(f.At)
	case RetentionSet:
		typ, w.RetentionS, w.At = RetentionSetType, int64(f.MaxAge/time.Second), FormatTimestamp(f.At)
	case UserAdded:
		typ, w.User, w.Role, w.PasswordHash, w.At = UserAddedType, f.User, f.Role, f.PasswordHash, FormatTimestamp(f.At)
	case UserRemoved:
		typ, w.User, w.At = UserRemovedType, f.User, FormatTimestamp(f.At)
	case RoleGranted:
		typ, w.User, w.Role, w.At = RoleGrantedType, f.User, f.Role, FormatTimestamp(f.At)
	case PasswordChanged:
		typ, w.User, w.PasswordHash, w.At = PasswordChangedType, f.User, f.PasswordHash, FormatTimestamp(f.At)
	case TokenIssued:
		typ, w.User, w.TokenID, w.Description, w.TokenHash, w.At = TokenIssuedType, f.User, f.Token.ID, f.Token.Description, f.Token.Hash, FormatTimestamp(f.Token.IssuedAt)
		if !f.Token.ExpiresAt.IsZero() {
			w.ExpiresAt = FormatTimestamp(f.Token.ExpiresAt)
		}
	case TokenRevoked:
		typ, w.User, w.TokenID, w.At = TokenRevokedType, f.User, f.TokenID, FormatTimestamp(f.At)
	default:
		return Fact{}, fmt.Errorf("encode account fact: unknown fact %T", fact)
	}
	w.V = factVersion
	data, err := json.Marshal(w)
	if err != nil {
		return Fact{}, fmt.Errorf("encode %s: %w", typ, err)
	}
	return Fact{Type: typ, Data: data}, nil
}

// DecodeAccountFact decodes an account fact.
func DecodeAccountFact(typ string, data []byte) (any, error) {
	var w accountFactV1
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode %s: %w", typ, err)
	}
	if w.V != factVersion {
		return nil, fmt.Errorf("decode %s v%d: %w", typ, w.V, ErrUnknownFactVersion)
	}
	at, _ := ParseTimestamp(w.At)
	switch typ {
	case AccountCreatedType:
		return AccountCreated{Name: w.Name, At: at}, nil
	case AccountDeletedType:
		return AccountDeleted{At: at}, nil
	case RetentionSetType:
		if w.RetentionS < 0 {
			return nil, fmt.Errorf("decode %s: negative retention", typ)
		}
		return RetentionSet{MaxAge: time.Duration(w.RetentionS) * time.Second, At: at}, nil
	case UserAddedType:
		return UserAdded{User: w.User, Role: w.Role, PasswordHash: w.PasswordHash, At: at}, nil
	case UserRemovedType:
		return UserRemoved{User: w.User, At: at}, nil
	case RoleGrantedType:
		return RoleGranted{User: w.User, Role: w.Role, At: at}, nil
	case PasswordChangedType:
		return PasswordChanged{User: w.User, PasswordHash: w.PasswordHash, At: at}, nil
	case TokenIssuedType:
		t := Token{ID: w.TokenID, Description: w.Description, Hash: w.TokenHash, IssuedAt: at}
		if w.ExpiresAt != "" {
			t.ExpiresAt, _ = ParseTimestamp(w.ExpiresAt)
		}
		return TokenIssued{User: w.User, Token: t}, nil
	case TokenRevokedType:
		return TokenRevoked{User: w.User, TokenID: w.TokenID, At: at}, nil
	}
	return nil, fmt.Errorf("decode account fact: unknown type %s", typ)
}
