package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"herald/domain"
)

// ErrUserNameTaken means another user already has that name.
var ErrUserNameTaken = errors.New("user name already taken")

const userNameReleasedType = "UserNameReleased"

type userNameFactV1 struct {
	V       int    `json:"v"`
	Account string `json:"account"`
}

// claimUserName reserves a user name for an account: users sign in with their name alone, so
// a name belongs to one account at most. The expected revision makes the claim atomic.
func claimUserName(ctx context.Context, store EventStore, user, account string) error {
	expected := domain.NoStream()
	records, err := store.ReadStream(ctx, userNameStream(user))
	switch {
	case errors.Is(err, domain.ErrStreamNotFound):
	case err != nil:
		return fmt.Errorf("read user name %s: %w", user, err)
	default:
		last := records[len(records)-1]
		if last.Type == userNameClaimedType {
			return fmt.Errorf("user %s: %w", user, ErrUserNameTaken)
		}
		expected = domain.Exact(last.Revision)
	}
	data, _ := json.Marshal(userNameFactV1{V: 1, Account: account})
	_, err = store.Append(ctx, userNameStream(user), expected, domain.Fact{Type: userNameClaimedType, Data: data})
	if errors.Is(err, domain.ErrConcurrency) {
		return fmt.Errorf("user %s: %w", user, ErrUserNameTaken)
	}
	return err
}

// releaseUserName frees a user name when its user is removed.
func releaseUserName(ctx context.Context, store EventStore, user, account string) error {
	data, _ := json.Marshal(userNameFactV1{V: 1, Account: account})
	_, err := store.Append(ctx, userNameStream(user), domain.StreamExists(), domain.Fact{Type: userNameReleasedType, Data: data})
	if err != nil && !errors.Is(err, domain.ErrConcurrency) {
		return fmt.Errorf("release user name %s: %w", user, err)
	}
	return nil
}
