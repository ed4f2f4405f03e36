package domain_test

import (
	"errors"
	"testing"

	"herald/domain"
)

func TestActor_permissionsFollowTheRoleTable(t *testing.T) {
	admin := domain.Actor{Account: domain.AdminAccount, User: "root", Role: domain.RoleReadWrite}
	adminReader := domain.Actor{Account: domain.AdminAccount, User: "auditor", Role: domain.RoleReadOnly}
	writer := domain.Actor{Account: "alice", User: "a", Role: domain.RoleReadWrite}
	reader := domain.Actor{Account: "alice", User: "r", Role: domain.RoleReadOnly}
	nobody := domain.Actor{}
	cases := []struct {
		p                                          domain.Permission
		admin, adminReader, writer, reader, nobody bool
	}{
		{domain.ListEvents, true, true, true, true, false},
		{domain.DeleteEvents, true, false, true, false, false},
		{domain.ListNotificationEndpoints, true, true, true, true, false},
		{domain.GetNotificationEndpointConfiguration, true, true, true, true, false},
		{domain.CreateNotificationEndpointConfiguration, true, false, true, false, false},
		{domain.DeleteNotificationEndpointConfiguration, true, false, true, false, false},
		{domain.UpdateNotificationEndpoints, true, false, false, false, false},
		{domain.ManageAccounts, true, false, false, false, false},
	}
	for _, c := range cases {
		for actor, want := range map[domain.Actor]bool{admin: c.admin, adminReader: c.adminReader, writer: c.writer, reader: c.reader, nobody: c.nobody} {
			if got := actor.Can(c.p); got != want {
				t.Errorf("%s can %s = %v, want %v", actor, c.p, got, want)
			}
		}
	}
	if err := nobody.Require(domain.ListEvents); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Errorf("anonymous: %v", err)
	}
	if err := reader.Require(domain.DeleteEvents); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("reader deleting: %v", err)
	}
}

func TestActor_scopeFilterConfinesToTheOwnAccount(t *testing.T) {
	alice := domain.Actor{Account: "alice", Role: domain.RoleReadOnly}
	f, err := alice.ScopeFilter(domain.EventFilter{Level: domain.LevelError})
	if err != nil || f.Account != "alice" {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := alice.ScopeFilter(domain.EventFilter{Account: "bob"}); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("alice asked for bob's events: %v", err)
	}
	admin := domain.Actor{Account: domain.AdminAccount, Role: domain.RoleReadWrite}
	if f, _ := admin.ScopeFilter(domain.EventFilter{}); f.Account != "" {
		t.Fatalf("admin confined to %q", f.Account)
	}
}
