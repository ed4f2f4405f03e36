package commands

import (
	"context"
	"errors"
	"fmt"

	"herald/domain"
)

// SecretSealer seals credentials before they are stored and opens them for checks.
type SecretSealer interface {
	Seal(plaintext string) (string, error)
	Open(sealed string) (string, error)
}

// loadConfiguration replays a configuration's stream. A configuration the actor may not see
// is reported as not found, so that ids cannot be probed across accounts.
func loadConfiguration(ctx context.Context, store EventStore, actor domain.Actor, id string) (domain.Configuration, error) {
	records, err := store.ReadStream(ctx, domain.ConfigurationStream(id))
	switch {
	case errors.Is(err, domain.ErrStreamNotFound), errors.Is(err, domain.ErrStreamDeleted):
		return domain.Configuration{}, fmt.Errorf("configuration %s: %w", id, domain.ErrConfigurationNotFound)
	case err != nil:
		return domain.Configuration{}, fmt.Errorf("read configuration %s: %w", id, err)
	}
	var c domain.Configuration
	for _, r := range records {
		fact, err := domain.DecodeConfigurationFact(r.Type, r.Data, c.Kind)
		if err != nil {
			return domain.Configuration{}, err
		}
		c.Apply(fact, r.Revision)
	}
	if c.Deleted || !actor.Sees(c.Account) {
		return domain.Configuration{}, fmt.Errorf("configuration %s: %w", id, domain.ErrConfigurationNotFound)
	}
	return c, nil
}

func appendConfigurationFact(ctx context.Context, store EventStore, id string, expected domain.ExpectedRevision, fact any) (uint64, error) {
	encoded, err := domain.EncodeConfigurationFact(fact)
	if err != nil {
		return 0, err
	}
	res, err := store.Append(ctx, domain.ConfigurationStream(id), expected, encoded)
	if err != nil {
		return 0, fmt.Errorf("append to configuration %s: %w", id, err)
	}
	return res.Position, nil
}

// sealSettings seals every credential of plaintext settings.
func sealSettings(s domain.Settings, sealer SecretSealer) (domain.Settings, error) {
	return s.MapSecrets(func(field string, sec domain.Secret) (domain.Secret, error) {
		sealed, err := sealer.Seal(sec.Reveal())
		if err != nil {
			return domain.Secret{}, fmt.Errorf("seal %s: %w", field, err)
		}
		return domain.NewSecret(sealed), nil
	})
}

// openSettings opens every credential of sealed settings.
func openSettings(s domain.Settings, sealer SecretSealer) (domain.Settings, error) {
	return s.MapSecrets(func(field string, sec domain.Secret) (domain.Secret, error) {
		plain, err := sealer.Open(sec.Reveal())
		if err != nil {
			return domain.Secret{}, fmt.Errorf("open %s: %w", field, err)
		}
		return domain.NewSecret(plain), nil
	})
}

// owningAccount is the account a new configuration belongs to: the caller's, or, for the
// admin account only, the one it names, which must exist: a configuration of a mistyped
// account would belong to nobody.
func owningAccount(ctx context.Context, store EventStore, actor domain.Actor, account string) (string, error) {
	if account == "" || account == actor.Account {
		return actor.Account, nil
	}
	if !actor.IsAdmin() {
		return "", fmt.Errorf("%s cannot add configurations to account %s: %w", actor, account, domain.ErrForbidden)
	}
	if _, err := loadAccount(ctx, store, account); err != nil {
		if errors.Is(err, domain.ErrAccountNotFound) {
			return "", invalid("account", "%q is no account; create it first (herald account create %s), or check the name (herald account list)", account, account)
		}
		return "", err
	}
	return account, nil
}
