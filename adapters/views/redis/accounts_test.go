package redis

import (
	"testing"

	"herald/adapters/views/redis/redistest"
	"herald/adapters/views/viewstest"
	"herald/projections"
)

func newTestAccounts(t testing.TB, prefix string) *Accounts {
	t.Helper()
	v, err := NewAccounts(shared.Client(t), Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAccounts(t *testing.T) {
	viewstest.TestAccountView(t, func(t *testing.T) projections.AccountView {
		return newTestAccounts(t, redistest.Prefix(t))
	})
}
