package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newAccountCommand() *cobra.Command {
	var url clientConfig
	cmd := &cobra.Command{
		Use:   "account",
		Short: "Manage accounts, users and API tokens",
		Long: `Manage accounts and their users (admin account only), and API tokens (your own, or
anyone's for the admin account). Users have the role read-only or read-write.`,
	}
	addClientFlags(cmd, &url)
	cmd.AddCommand(
		newAccountListCommand(&url), newAccountCreateCommand(&url), newAccountRetentionCommand(&url), newWhoamiCommand(&url),
		newUserCommand(&url), newTokenCommand(&url),
	)
	return cmd
}

type wireAccount struct {
	Name      string  `json:"name"`
	CreatedAt string  `json:"createdAt"`
	Retention *string `json:"retention"`
	Users     []struct {
		Name        string      `json:"name"`
		Role        string      `json:"role"`
		HasPassword bool        `json:"hasPassword"`
		Tokens      []wireToken `json:"tokens"`
	} `json:"users"`
}

const accountFields = `name createdAt retention users { name role hasPassword tokens { id description issuedAt expiresAt revoked } }`

func newAccountListCommand(url *clientConfig) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List accounts and their users (admin only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var data struct {
				Accounts []wireAccount `json:"accounts"`
			}
			if err := newClient(url).do(cmd.Context(), `query { accounts { `+accountFields+` } }`, nil, &data); err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd, data.Accounts)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 4, ' ', 0)
			fmt.Fprintln(tw, "Account\tUser\tRole\tCreated\tRetention")
			for _, a := range data.Accounts {
				retention := "default"
				if a.Retention != nil {
					retention = *a.Retention
				}
				if len(a.Users) == 0 {
					fmt.Fprintf(tw, "%s\t-\t-\t%s\t%s\n", printable(a.Name), a.CreatedAt, retention)
				}
				for _, u := range a.Users {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", printable(a.Name), printable(u.Name), roleName(u.Role), a.CreatedAt, retention)
				}
			}
			return tw.Flush()
		},
	}
	addOutputFlag(cmd, &output, "table", "table", "json")
	return cmd
}

func roleName(r string) string { return strings.ReplaceAll(strings.ToLower(r), "_", "-") }

func roleValue(r string) (string, error) {
	switch strings.ToLower(r) {
	case "read-only", "readonly", "read_only":
		return "READ_ONLY", nil
	case "read-write", "readwrite", "read_write":
		return "READ_WRITE", nil
	}
	return "", fmt.Errorf("--role %q: use read-only or read-write", r)
}

func newAccountCreateCommand(url *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "create NAME",
		Short: "Create an account (admin only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := newClient(url).do(cmd.Context(), `mutation($n: String!) { createAccount(name: $n) { name } }`, map[string]any{"n": args[0]}, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created account %s\n", args[0])
			return nil
		},
	}
}

func newAccountRetentionCommand(url *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "retention NAME (DAYSd | DURATION | default)",
		Short: "Set how long an account's events are kept (admin only)",
		Long: `Set how long an account's events are kept: a number of days (30d) or a duration (720h),
at least an hour; "default" goes back to the server's --retention. Older events are cleared
as by "herald event delete", within 1% of the retention (at most a day).`,
		Example: `  herald account retention acme 30d
  herald account retention acme default`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			vars := map[string]any{"a": args[0], "r": nil}
			if args[1] != "default" {
				vars["r"] = args[1]
			}
			var data struct {
				SetAccountRetention wireAccount `json:"setAccountRetention"`
			}
			if err := newClient(url).do(cmd.Context(), `mutation($a: String!, $r: String) { setAccountRetention(account: $a, retention: $r) { name retention } }`, vars, &data); err != nil {
				return err
			}
			if r := data.SetAccountRetention.Retention; r != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "Events of account %s are kept %s\n", args[0], *r)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "Events of account %s are kept as long as the server's --retention says\n", args[0])
			}
			return nil
		},
	}
}

func newWhoamiCommand(url *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show the account, user and role your credentials stand for",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var data struct {
				Viewer struct {
					Account, User, Role string
					Admin               bool
				} `json:"viewer"`
			}
			if err := newClient(url).do(cmd.Context(), `query { viewer { account user role admin } }`, nil, &data); err != nil {
				return err
			}
			v := data.Viewer
			fmt.Fprintf(cmd.OutOrStdout(), "user %s of account %s (%s)\n", v.User, v.Account, roleName(v.Role))
			return nil
		},
	}
}

func newUserCommand(url *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Add, remove and change users (admin only, except your own password)"}
	var role, password string
	add := &cobra.Command{
		Use:   "add ACCOUNT USER",
		Short: "Add a user to an account",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := roleValue(role)
			if err != nil {
				return err
			}
			pw, err := readValue(password, cmd.InOrStdin())
			if err != nil {
				return fmt.Errorf("--new-password: %w", err)
			}
			vars := map[string]any{"a": args[0], "u": args[1], "r": r}
			if pw != "" {
				vars["p"] = pw
			}
			q := `mutation($a: String!, $u: String!, $r: Role!, $p: String) { addUser(account: $a, user: $u, role: $r, password: $p) { name } }`
			if err := newClient(url).do(cmd.Context(), q, vars, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added user %s to account %s (%s)\n", args[1], args[0], roleName(r))
			return nil
		},
	}
	add.Flags().StringVar(&role, "role", "read-only", "read-only or read-write")
	add.Flags().StringVar(&password, "new-password", "", "the new user's password (@FILE or @- to read it); none: the user signs in with API tokens only")
	remove := &cobra.Command{
		Use:   "remove ACCOUNT USER",
		Short: "Remove a user; its API tokens stop working",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := `mutation($a: String!, $u: String!) { removeUser(account: $a, user: $u) }`
			if err := newClient(url).do(cmd.Context(), q, map[string]any{"a": args[0], "u": args[1]}, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed user %s of account %s\n", args[1], args[0])
			return nil
		},
	}
	var grantRole string
	grant := &cobra.Command{
		Use:   "role ACCOUNT USER",
		Short: "Change the role of a user",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := roleValue(grantRole)
			if err != nil {
				return err
			}
			q := `mutation($a: String!, $u: String!, $r: Role!) { grantRole(account: $a, user: $u, role: $r) { name } }`
			if err := newClient(url).do(cmd.Context(), q, map[string]any{"a": args[0], "u": args[1], "r": r}, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "User %s of account %s is now %s\n", args[1], args[0], roleName(r))
			return nil
		},
	}
	grant.Flags().StringVar(&grantRole, "role", "", "read-only or read-write")
	var newPassword string
	passwd := &cobra.Command{
		Use:   "password [ACCOUNT USER]",
		Short: "Change a password: yours, or (admin) anyone's",
		Args:  cobra.RangeArgs(0, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readValue(newPassword, cmd.InOrStdin())
			if err != nil {
				return fmt.Errorf("--new-password: %w", err)
			}
			if pw == "" {
				return fmt.Errorf("--new-password is required (@FILE or @- to read it)")
			}
			vars := map[string]any{"p": pw}
			if len(args) == 2 {
				vars["a"], vars["u"] = args[0], args[1]
			} else if len(args) == 1 {
				return fmt.Errorf("give both ACCOUNT and USER, or neither for your own password")
			}
			q := `mutation($a: String, $u: String, $p: String!) { changePassword(account: $a, user: $u, password: $p) }`
			if err := newClient(url).do(cmd.Context(), q, vars, nil); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Password changed")
			return nil
		},
	}
	passwd.Flags().StringVar(&newPassword, "new-password", "", "the new password (@FILE or @- to read it)")
	cmd.AddCommand(add, remove, grant, passwd)
	return cmd
}

func newTokenCommand(url *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Issue, list and revoke API tokens"}
	var description string
	var ttl time.Duration
	issue := &cobra.Command{
		Use:   "issue [ACCOUNT USER]",
		Short: "Issue an API token to yourself, or (admin) to USER of ACCOUNT; it is shown once: store it",
		Args:  accountUserArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			vars := map[string]any{"d": description}
			if len(args) == 2 {
				vars["a"], vars["u"] = args[0], args[1]
			}
			if ttl > 0 {
				vars["ttl"] = int(ttl.Seconds())
			}
			var data struct {
				Token struct {
					ID        string  `json:"id"`
					Token     string  `json:"token"`
					ExpiresAt *string `json:"expiresAt"`
				} `json:"issueApiToken"`
			}
			q := `mutation($a: String, $u: String, $d: String, $ttl: Int) { issueApiToken(account: $a, user: $u, description: $d, ttlSeconds: $ttl) { id token expiresAt } }`
			if err := newClient(url).do(cmd.Context(), q, vars, &data); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), data.Token.Token)
			fmt.Fprintf(cmd.ErrOrStderr(), "Token %s issued; it is shown this once. Use it as HERALD_TOKEN or 'Authorization: Bearer <token>'.\n", data.Token.ID)
			return nil
		},
	}
	issue.Flags().StringVar(&description, "description", "", "what the token is for")
	// Read as the retention flags are, so that days work here too.
	issue.Flags().Var((*retention)(&ttl), "ttl", "lifetime: a number of days (30d) or a duration (720h); 0 never expires")
	revoke := &cobra.Command{
		Use:   "revoke ID [ACCOUNT USER]",
		Short: "Revoke one of your API tokens, or (admin) one of USER of ACCOUNT",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("give the token ID")
			}
			return accountUserArgs(cmd, args[1:])
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			vars := map[string]any{"id": args[0]}
			if len(args) == 3 {
				vars["a"], vars["u"] = args[1], args[2]
			}
			q := `mutation($a: String, $u: String, $id: ID!) { revokeApiToken(account: $a, user: $u, id: $id) }`
			if err := newClient(url).do(cmd.Context(), q, vars, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Revoked token %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(issue, revoke, newTokenListCommand(url))
	return cmd
}

// wireToken is an API token as the accounts and viewer queries answer it.
type wireToken struct {
	ID          string  `json:"id"`
	Description string  `json:"description"`
	IssuedAt    string  `json:"issuedAt"`
	ExpiresAt   *string `json:"expiresAt"`
	Revoked     bool    `json:"revoked"`
}

func newTokenListCommand(url *clientConfig) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list [ACCOUNT USER]",
		Short: "List your API tokens, or (admin) those of USER of ACCOUNT, without their secrets",
		Example: `  herald account token list
  herald account token list alice ann -o json`,
		Args: accountUserArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			tokens, err := listTokens(cmd, url, args)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd, tokens)
			}
			now := time.Now()
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 4, ' ', 0)
			fmt.Fprintln(tw, "ID\tState\tIssued\tExpires\tDescription")
			for _, t := range tokens {
				expires := "never"
				if t.ExpiresAt != nil {
					expires = *t.ExpiresAt
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.ID, tokenState(t, now), t.IssuedAt, expires, printable(t.Description))
			}
			return tw.Flush()
		},
	}
	addOutputFlag(cmd, &output, "table", "table", "json")
	return cmd
}

// listTokens asks for the caller's own tokens, or with ACCOUNT USER (admin only, unless they
// name the caller) for theirs.
func listTokens(cmd *cobra.Command, url *clientConfig, args []string) ([]wireToken, error) {
	const fields = `id description issuedAt expiresAt revoked`
	var self struct {
		Viewer struct {
			Account string      `json:"account"`
			User    string      `json:"user"`
			Tokens  []wireToken `json:"tokens"`
		} `json:"viewer"`
	}
	if err := newClient(url).do(cmd.Context(), `query { viewer { account user tokens { `+fields+` } } }`, nil, &self); err != nil {
		return nil, err
	}
	if len(args) == 0 || args[0] == self.Viewer.Account && args[1] == self.Viewer.User {
		return self.Viewer.Tokens, nil
	}
	var data struct {
		Account *struct {
			Users []struct {
				Name   string      `json:"name"`
				Tokens []wireToken `json:"tokens"`
			} `json:"users"`
		} `json:"account"`
	}
	q := `query($a: String!) { account(name: $a) { users { name tokens { ` + fields + ` } } } }`
	if err := newClient(url).do(cmd.Context(), q, map[string]any{"a": args[0]}, &data); err != nil {
		return nil, err
	}
	if data.Account == nil {
		return nil, fmt.Errorf("no account %s", args[0])
	}
	for _, u := range data.Account.Users {
		if u.Name == args[1] {
			return u.Tokens, nil
		}
	}
	return nil, fmt.Errorf("account %s has no user %s", args[0], args[1])
}

// tokenState is whether a token still signs in at now: active, expired or revoked.
func tokenState(t wireToken, now time.Time) string {
	switch {
	case t.Revoked:
		return "revoked"
	case t.ExpiresAt != nil:
		if exp, err := time.Parse(time.RFC3339Nano, *t.ExpiresAt); err == nil && !exp.After(now) {
			return "expired"
		}
	}
	return "active"
}

// accountUserArgs accepts either no arguments (yourself) or ACCOUNT and USER.
func accountUserArgs(_ *cobra.Command, args []string) error {
	if len(args) != 0 && len(args) != 2 {
		return fmt.Errorf("give both ACCOUNT and USER, or neither for yourself")
	}
	return nil
}
