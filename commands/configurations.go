package commands

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"herald/domain"
)

// SecretSealer seals credentials before they are stored and opens them for checks.
type SecretSealer interface {
	Seal(plaintext string) (string, error)
	Open(sealed string) (string, error)
}

// loadConfiguration replays a configuration's stream, and tells the log position of its last
// fact. A configuration the actor may not see is reported as not found, so that ids cannot
// be probed across accounts.
func loadConfiguration(ctx context.Context, store EventStore, actor domain.Actor, id string) (domain.Configuration, uint64, error) {
	c, at, err := replayConfiguration(ctx, store, id)
	switch {
	case errors.Is(err, domain.ErrStreamNotFound), errors.Is(err, domain.ErrStreamDeleted):
		return domain.Configuration{}, 0, domain.ConfigurationNotFound(id)
	case err != nil:
		return domain.Configuration{}, 0, err
	}
	if c.Deleted || !actor.Sees(c.Account) {
		return domain.Configuration{}, 0, domain.ConfigurationNotFound(id)
	}
	return c, at, nil
}

// replayConfiguration replays a configuration's stream as it is, deleted or not, and tells
// the log position of its last fact; a stream that was never written or was deleted is the
// store's error.
func replayConfiguration(ctx context.Context, store EventStore, id string) (domain.Configuration, uint64, error) {
	records, err := store.ReadStream(ctx, domain.ConfigurationStream(id))
	if err != nil {
		return domain.Configuration{}, 0, fmt.Errorf("read configuration %s: %w", id, err)
	}
	var c domain.Configuration
	var at uint64
	for _, r := range records {
		fact, err := domain.DecodeConfigurationFact(r.Type, r.Data, c.Kind)
		if err != nil {
			return domain.Configuration{}, 0, err
		}
		c.Apply(fact, r.Revision)
		at = r.Position
	}
	return c, at, nil
}

// Configuration names are unique within an account, compared as configurationNameKey does,
// so that people, the CLI and dashboards can tell an account's configurations apart by name.
// The configurations view lags the log and two writers may choose one name at once, so the
// check reads no view: as a user name is (user_names.go), a name is reserved in a stream of
// its own by appending ConfigurationNameClaimed at the revision read. A claim is never
// released: it holds while the configuration it names has that name, so deleting or renaming
// a configuration frees its name without another write. Configurations stored by versions
// before this check claimed nothing: each start claims their names, oldest first
// (claim_configuration_names.go), and a later duplicate keeps its name without a claim.

const configurationNameClaimedType = "ConfigurationNameClaimed"

// configurationNameClaimV1 is the data of ConfigurationNameClaimed.
type configurationNameClaimV1 struct {
	V             int    `json:"v"`
	Account       string `json:"account"`
	Name          string `json:"name"`
	Configuration string `json:"configuration"`
	// Revision is the configuration's revision once the write the claim is for is stored;
	// until then the claim is in flight.
	Revision uint64    `json:"revision"`
	At       time.Time `json:"at"`
}

// nameClaimInFlight is how long a claim whose write has not been stored holds all the same:
// the write follows the claim within milliseconds, unless it failed, and then the name is
// free again after this long.
const nameClaimInFlight = time.Minute

// configurationNameKey is what two configurations of an account must not share: the name
// without surrounding white space, every run of white space inside as one space, in one case.
// Names are read in tables and menus, where "ops slack", "Ops Slack" and "ops  slack " cannot
// be told apart at a glance.
func configurationNameKey(name string) string {
	return strings.Map(foldCase, strings.Join(strings.Fields(name), " "))
}

// foldCase maps a letter to the smallest letter of its case class (unicode.SimpleFold), so
// that names equal under strings.EqualFold have one key.
func foldCase(r rune) rune {
	lowest := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		lowest = min(lowest, f)
	}
	return lowest
}

// configurationNameStream names the stream that reserves a name key in an account; a digest
// keeps stream names short whatever characters the name holds.
func configurationNameStream(account, key string) string {
	sum := sha256.Sum256([]byte(account + "\x00" + key))
	return domain.HeraldStreamPrefix + "configname-" + hex.EncodeToString(sum[:])
}

// claimConfigurationName reserves name in account for configuration id, which will be at
// revision once its write is stored. A name another configuration holds is a validation error
// on "name" that names that configuration.
func claimConfigurationName(ctx context.Context, store EventStore, now time.Time, account, name, id string, revision uint64) error {
	key := configurationNameKey(name)
	stream := configurationNameStream(account, key)
	for attempt := 1; ; attempt++ {
		held, expected, err := lastNameClaim(ctx, store, stream)
		if err != nil {
			return fmt.Errorf("read the claim on configuration name %q: %w", name, err)
		}
		switch {
		case held.Configuration == "":
		case held.Configuration != id:
			if err := checkNameFree(ctx, store, now, held, key); err != nil {
				return err
			}
		case attempt > 1 && held.Revision == revision:
			// Another writer made this very claim meanwhile (instances claiming the names of
			// older configurations at once): it is as fresh as ours would be.
			return nil
		}
		data, _ := json.Marshal(configurationNameClaimV1{V: 1, Account: account, Name: name, Configuration: id, Revision: revision, At: now})
		_, err = store.Append(ctx, stream, expected, domain.Fact{Type: configurationNameClaimedType, Data: data})
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, domain.ErrConcurrency) || attempt == 3:
			return fmt.Errorf("claim configuration name %q: %w", name, err)
		}
		// Another writer claimed the name meanwhile: see whose it is now.
	}
}

// lastNameClaim reads the claim appended last to a name's stream, the zero claim when the name
// was never claimed, and the revision the next claim is appended at.
func lastNameClaim(ctx context.Context, store EventStore, stream string) (configurationNameClaimV1, domain.ExpectedRevision, error) {
	records, err := store.ReadStream(ctx, stream)
	switch {
	case errors.Is(err, domain.ErrStreamNotFound):
		return configurationNameClaimV1{}, domain.NoStream(), nil
	case err != nil:
		return configurationNameClaimV1{}, domain.ExpectedRevision{}, err
	}
	last := records[len(records)-1]
	var held configurationNameClaimV1
	if err := json.Unmarshal(last.Data, &held); err != nil {
		return configurationNameClaimV1{}, domain.ExpectedRevision{}, err
	}
	return held, domain.Exact(last.Revision), nil
}

// checkNameFree returns the error for a claim that still holds: its configuration has the
// name, or the write the claim is for may still be on its way.
func checkNameFree(ctx context.Context, store EventStore, now time.Time, held configurationNameClaimV1, key string) error {
	c, _, err := replayConfiguration(ctx, store, held.Configuration)
	switch {
	case errors.Is(err, domain.ErrStreamDeleted):
		return nil
	case err != nil && !errors.Is(err, domain.ErrStreamNotFound):
		return err
	case err != nil || c.Revision < held.Revision:
		if now.Sub(held.At) >= nameClaimInFlight {
			return nil // the write never came
		}
		return invalid("name", "account %q is saving a configuration named %q at this moment (id %s); choose another name, or try again in a minute",
			held.Account, held.Name, held.Configuration)
	case c.Deleted || configurationNameKey(c.Name) != key:
		return nil
	}
	return invalid("name", "account %q already has a configuration named %q (id %s); choose another name or edit that one", c.Account, c.Name, c.ID)
}

func appendConfigurationFact(ctx context.Context, store EventStore, id string, expected domain.ExpectedRevision, fact any) (uint64, error) {
	encoded, err := domain.EncodeConfigurationFact(fact)
	if err != nil {
		return 0, err
	}
	res, err := store.Append(ctx, domain.ConfigurationStream(id), expected, encoded)
	switch {
	case errors.Is(err, domain.ErrConcurrency): // another change landed since it was read
		return 0, fmt.Errorf("configuration %s changed while this change was saved; read it again and retry: %w", id, domain.ErrConcurrency)
	case err != nil:
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
		return "", fmt.Errorf("%s cannot add configurations to account %s: %w", actor, domain.Truncate(account, domain.MaxQuoted), domain.ErrForbidden)
	}
	if !domain.ValidAccountName(account) { // and quoted whole below: at most 64 characters
		return "", invalid("account", "%s is not an account name: %s; check the name (herald account list)", domain.Quote(account), domain.AccountNameRule)
	}
	if _, err := loadAccount(ctx, store, account); err != nil {
		if errors.Is(err, domain.ErrAccountNotFound) {
			return "", invalid("account", "%q is no account; create it first (herald account create %s), or check the name (herald account list)", account, account)
		}
		return "", err
	}
	return account, nil
}
