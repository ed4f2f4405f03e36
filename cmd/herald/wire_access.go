package main

import (
	"context"

	"herald/adapters/secrets"
	"herald/commands"
	"herald/graph"
	"herald/projections"
)

func (a *app) wireAccess(ctx context.Context, cfg serveConfig, v views, metrics *metrics, now commands.Clock) (graph.AccessDeps, graph.Authenticator, error) {
	projection, err := projections.NewAccountsProjection(v.accounts)
	if err != nil {
		return graph.AccessDeps{}, nil, err
	}
	runner, err := a.addRunner(projection, v, metrics)
	if err != nil {
		return graph.AccessDeps{}, nil, err
	}
	passwords := secrets.NewPasswords(0)
	boot, err := commands.NewBootstrapAdminHandler(a.store, passwords, now)
	if err != nil {
		return graph.AccessDeps{}, nil, err
	}
	if err := bootstrapAdmin(ctx, boot, cfg.Auth, cfg.DataDir, a.logger); err != nil {
		return graph.AccessDeps{}, nil, err
	}
	auth, err := projections.NewAuthenticator(v.accounts, secrets.Checker{Passwords: passwords}, now)
	if err != nil {
		return graph.AccessDeps{}, nil, err
	}
	auth.WaitForView(runner.WaitLive)
	deps := graph.AccessDeps{Accounts: v.accounts}
	var errs [8]error
	deps.CreateAccount, errs[0] = commands.NewCreateAccountHandler(a.store, now)
	deps.AddUser, errs[1] = commands.NewAddUserHandler(a.store, passwords, now)
	deps.RemoveUser, errs[2] = commands.NewRemoveUserHandler(a.store, now)
	deps.GrantRole, errs[3] = commands.NewGrantRoleHandler(a.store, now)
	deps.ChangePassword, errs[4] = commands.NewChangePasswordHandler(a.store, passwords, now)
	deps.IssueToken, errs[5] = commands.NewIssueTokenHandler(a.store, secrets.NewToken, now)
	deps.RevokeToken, errs[6] = commands.NewRevokeTokenHandler(a.store, now)
	deps.SetRetention, errs[7] = commands.NewSetRetentionHandler(a.store, now)
	deps.PasswordChanged = func(account, user string) { a.forgetGeneratedPassword(cfg, account, user) }
	return deps, auth, firstError(errs[:]...)
}
