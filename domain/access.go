package domain

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// AdminAccount is the account that administers herald: it sees every account's events and
// configurations, may use the global selector scope and toggles endpoints system-wide.
const AdminAccount = "admin"

// Role is what a user may do within its account.
type Role string

// Roles of a user.
const (
	RoleReadOnly  Role = "read-only"
	RoleReadWrite Role = "read-write"
)

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleReadOnly, RoleReadWrite:
		return r, nil
	}
	return "", fmt.Errorf("%s is not a role; use read-only or read-write", Quote(s))
}

// Permission names one action a caller may be allowed. The notification names are the
// actions of the product's RBAC table; the others are herald's own.
type Permission string

// Permissions.
const (
	ListEvents   Permission = "listEvents"
	GetEvent     Permission = "getEvent"
	RecordEvents Permission = "recordEvents"
	DeleteEvents Permission = "deleteEvents"

	ListNotificationEndpoints               Permission = "listNotificationEndpoints"
	ListNotificationEndpointConfigurations  Permission = "listNotificationEndpointConfigurations"
	GetNotificationEndpointConfiguration    Permission = "getNotificationEndpointConfiguration"
	CreateNotificationEndpointConfiguration Permission = "createNotificationEndpointConfiguration"
	UpdateNotificationEndpointConfiguration Permission = "updateNotificationEndpointConfiguration"
	DeleteNotificationEndpointConfiguration Permission = "deleteNotificationEndpointConfiguration"
	TestNotificationEndpointConfiguration   Permission = "testNotificationEndpointConfiguration"
	ListNotificationDeliveries              Permission = "listNotificationDeliveries"
	BackfillNotifications                   Permission = "backfillNotifications"

	ManageOwnTokens             Permission = "manageOwnTokens"
	ManageAccounts              Permission = "manageAccounts" // admin account only
	UpdateNotificationEndpoints Permission = "updateNotificationEndpoints"
	ManageProjections           Permission = "manageProjections"
)

var (
	readOnlyPermissions = []Permission{
		ListEvents, GetEvent, ListNotificationEndpoints, ListNotificationEndpointConfigurations,
		GetNotificationEndpointConfiguration, ListNotificationDeliveries, ManageOwnTokens,
	}
	readWritePermissions = append(slices.Clone(readOnlyPermissions),
		RecordEvents, DeleteEvents, CreateNotificationEndpointConfiguration, UpdateNotificationEndpointConfiguration,
		DeleteNotificationEndpointConfiguration, TestNotificationEndpointConfiguration, BackfillNotifications,
	)
	// adminOnly are allowed to read-write users of the admin account and nobody else.
	adminOnly = []Permission{ManageAccounts, UpdateNotificationEndpoints, ManageProjections}
)

// Permissions lists every permission.
func Permissions() []Permission {
	out := slices.Clone(readWritePermissions)
	return append(out, adminOnly...)
}

// ErrForbidden means the caller may not do what it asked.
var ErrForbidden = errors.New("forbidden")

// ErrUnauthenticated means the request carried no valid credentials.
var ErrUnauthenticated = errors.New("authentication required")

// Actor is who asks: a user of an account with a role.
type Actor struct {
	Account string
	User    string
	Role    Role
	// ByToken is set when the actor signed in with an API token, which expires at
	// TokenExpires (zero: never). What a token may do to its user's credentials is bounded by
	// it: it cannot issue a token that outlives it, nor change its user's password.
	ByToken      bool
	TokenExpires time.Time
}

// SystemActor is who herald's own jobs act as: Kafka ingest, retention. It is of the admin
// account, so it may record and clear events of every account.
func SystemActor() Actor { return Actor{Account: AdminAccount, User: "herald", Role: RoleReadWrite} }

// IsAdmin tells whether the actor belongs to the admin account.
func (a Actor) IsAdmin() bool { return a.Account == AdminAccount }

// Can tells whether the actor holds a permission.
func (a Actor) Can(p Permission) bool {
	if slices.Contains(adminOnly, p) {
		return a.IsAdmin() && a.Role == RoleReadWrite
	}
	switch a.Role {
	case RoleReadWrite:
		return slices.Contains(readWritePermissions, p)
	case RoleReadOnly:
		return slices.Contains(readOnlyPermissions, p)
	}
	return false
}

// Require returns an error wrapping ErrForbidden unless the actor holds the permission.
func (a Actor) Require(p Permission) error {
	if a.Can(p) {
		return nil
	}
	if a.Account == "" {
		return fmt.Errorf("%s: %w", p, ErrUnauthenticated)
	}
	return fmt.Errorf("%s is not allowed to %s: %w", a, p, ErrForbidden)
}

// Sees tells whether the actor may see what belongs to account.
func (a Actor) Sees(account string) bool { return a.IsAdmin() || a.Account == account }

// ScopeFilter confines an event filter to what the actor sees: a non-admin actor always gets
// its own account, and naming another one is forbidden.
func (a Actor) ScopeFilter(f EventFilter) (EventFilter, error) {
	if a.IsAdmin() {
		return f, nil
	}
	if f.Account != "" && f.Account != a.Account {
		return f, fmt.Errorf("%s cannot see the events of account %s: %w", a, Truncate(f.Account, MaxQuoted), ErrForbidden)
	}
	f.Account = a.Account
	return f, nil
}

func (a Actor) String() string {
	if a.User == "" {
		return "account " + a.Account
	}
	return fmt.Sprintf("user %s of account %s (%s)", a.User, a.Account, a.Role)
}
