package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"herald/adapters/secrets"
	"herald/commands"
	"herald/domain"
)

// authFlags configure access control.
type authFlags struct {
	RequireAuth    bool
	AdminUser      string
	AdminPassword  string
	SecretKey      string
	AllowedOrigins []string
}

func (a *authFlags) add(f *pflag.FlagSet) {
	f.BoolVar(&a.RequireAuth, "require-auth", true, "require credentials (Basic or Bearer) on every request; false makes every request act as the admin account (local use only)")
	f.StringVar(&a.AdminUser, "admin-user", "admin", "name of the admin account's first user, created on the first start")
	f.StringVar(&a.AdminPassword, "admin-password", "", "password of that user on the first start; if empty, one is generated and written to <data-dir>/admin-password")
	f.StringSliceVar(&a.AllowedOrigins, "allowed-origins", nil, "hosts of other sites whose pages may open websockets to the API (dashboard.example.com, *.example.com; comma-separated); pages served by herald itself and clients that are no browser need none")
	f.StringVar(&a.SecretKey, "secret-key", "", "32-byte key (64 hex digits) that seals endpoint credentials at rest; if empty, one is generated in <data-dir>/secret.key (embedded mode only)")
}

// sealerFor returns the sealer for the configured key. Without one, the embedded mode keeps a
// generated key beside its data; the distributed mode needs the same key on every instance,
// so it must be given.
func sealerFor(a authFlags, dataDir string, distributed bool, logger *slog.Logger) (*secrets.Sealer, error) {
	key, err := a.givenSecretKey(distributed)
	if err == nil && key == nil {
		key, err = dataDirSecretKey(dataDir, logger)
	}
	if err != nil {
		return nil, err
	}
	return secrets.NewSealer(key)
}

// givenSecretKey reads --secret-key; it is nil when none is given and one may be generated.
// serve calls it before anything is written, so that a bad key changes nothing.
func (a authFlags) givenSecretKey(distributed bool) ([]byte, error) {
	switch {
	case a.SecretKey == "" && distributed:
		return nil, errors.New("--secret-key (HERALD_SECRET_KEY) is required when views are shared through Redis: every instance must seal credentials with the same key (make one with: openssl rand -hex 32)")
	case a.SecretKey == "":
		return nil, nil
	}
	key, err := secrets.ParseKey(a.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("--secret-key: %w", err)
	}
	return key, nil
}

// dataDirSecretKey reads the key kept in <data-dir>/secret.key, generating it on the first
// start.
func dataDirSecretKey(dataDir string, logger *slog.Logger) ([]byte, error) {
	path := filepath.Join(dataDir, "secret.key")
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		key := make([]byte, secrets.KeySize)
		_, _ = rand.Read(key)
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		logger.Warn("generated the key that seals endpoint credentials; back it up, or set HERALD_SECRET_KEY", "path", path)
		return key, nil
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	key, err := secrets.ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// bootstrapAdmin creates the admin account and its first user on the first start. Without a
// configured password it generates one and writes it to <data-dir>/admin-password.
func bootstrapAdmin(ctx context.Context, h commands.BootstrapAdminHandler, a authFlags, dataDir string, logger *slog.Logger) error {
	a.AdminUser = a.adminUser()
	password, generated := a.AdminPassword, false
	if password == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		password, generated = hex.EncodeToString(b[:]), true
	}
	created, err := h.Handle(ctx, commands.BootstrapAdmin{User: a.AdminUser, Password: password})
	if err != nil {
		return fmt.Errorf("create the admin user %q (--admin-user, --admin-password): %w", a.AdminUser, err)
	}
	if !created {
		if !generated {
			logger.Info("--admin-password (HERALD_ADMIN_PASSWORD) is not used: it sets the first admin's password only, and the admin account exists; change a password with herald account user password", "user", a.AdminUser)
		}
		return nil
	}
	if !generated {
		logger.Info("created the admin account", "user", a.AdminUser)
		return nil
	}
	path := generatedPasswordPath(dataDir)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	logger.Warn("created the admin account with a generated password; sign in with it and change it", "user", a.AdminUser, "password_file", path)
	return nil
}

// adminUser is the admin account's first user: --admin-user, "admin" when empty.
func (a authFlags) adminUser() string { return cmp.Or(a.AdminUser, "admin") }

// generatedPasswordPath is the file that holds the first admin's generated password until
// that password is changed.
func generatedPasswordPath(dataDir string) string { return filepath.Join(dataDir, "admin-password") }

// forgetGeneratedPassword removes the generated password's file once the first admin's
// password changed through this server: kept, it would hold a password that no longer signs
// in, and the CLI's hints point there.
func (a *app) forgetGeneratedPassword(cfg serveConfig, account, user string) {
	if account != domain.AdminAccount || user != cfg.Auth.adminUser() {
		return
	}
	path := generatedPasswordPath(cfg.DataDir)
	switch err := os.Remove(path); {
	case err == nil:
		a.logger.Info("removed the file of the generated admin password: that password was changed", "user", user, "password_file", path)
	case !errors.Is(err, fs.ErrNotExist):
		a.logger.Warn("could not remove the file of the generated admin password, which was changed; remove it by hand", "password_file", path, "error", err)
	}
}

// trimOriginPatterns drops the spaces around --allowed-origins patterns ("a.com, b.com") and
// the empty ones (a trailing comma), which would otherwise never match or be refused.
func trimOriginPatterns(patterns []string) []string {
	var out []string
	for _, p := range patterns {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// checkOriginPatterns refuses --allowed-origins patterns that could never match: the websocket
// library matches a pattern (path.Match) against an Origin's host and port, or against
// scheme://host:port when the pattern holds "://", and would otherwise refuse every socket
// with an error about the pattern only when a browser connects.
func checkOriginPatterns(patterns []string) error {
	for _, p := range patterns {
		host := p
		if scheme, rest, ok := strings.Cut(p, "://"); ok {
			if scheme == "" {
				return fmt.Errorf("--allowed-origins %q: give a scheme before :// (https://dashboard.example.com), or none (dashboard.example.com)", p)
			}
			host = rest
		}
		switch {
		case host == "":
			return fmt.Errorf("--allowed-origins %q: give a host pattern, such as dashboard.example.com or *.example.com", p)
		case strings.Contains(host, "/"):
			return fmt.Errorf("--allowed-origins %q: an origin has no path; give the host (and port) alone, such as dashboard.example.com:8443", p)
		}
		if _, err := path.Match(strings.ToLower(p), ""); err != nil {
			return fmt.Errorf("--allowed-origins %q: not a valid pattern (* and ? match within the host, [a-z] a class: a [ must be closed): %w", p, err)
		}
	}
	return nil
}
