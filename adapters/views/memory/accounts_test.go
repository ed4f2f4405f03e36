package memory

import (
	"testing"

	"herald/adapters/views/viewstest"
	"herald/projections"
)

var _ projections.AccountView = (*Accounts)(nil)

func TestAccounts(t *testing.T) {
	viewstest.TestAccountView(t, func(*testing.T) projections.AccountView { return NewAccounts() })
}
