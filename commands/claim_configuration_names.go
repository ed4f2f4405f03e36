package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"herald/domain"
)

// ConfigurationLister lists the configurations of every account.
type ConfigurationLister interface {
	All(ctx context.Context) ([]domain.Configuration, error)
}

// ClaimConfigurationNames claims the names of configurations that versions before names were
// unique stored without a claim, so that no new configuration can take them.
type ClaimConfigurationNames struct {
	// Progress, when set, is told how far the run is, every 2 s.
	Progress func(done, total, claimed int)
	// Duplicate, when set, is told of each configuration that keeps a name another
	// configuration of its account holds, and why.
	Duplicate func(c domain.Configuration, reason string)
}

// ClaimConfigurationNamesResult tells what a ClaimConfigurationNames run did.
type ClaimConfigurationNamesResult struct {
	Configurations int // configurations looked at
	Claimed        int // names claimed by this run
	Duplicates     int // names another configuration of the account holds: left unclaimed
}

// ClaimConfigurationNamesHandler handles ClaimConfigurationNames.
type ClaimConfigurationNamesHandler struct {
	store          EventStore
	configurations ConfigurationLister
	now            Clock
}

// NewClaimConfigurationNamesHandler builds the handler.
func NewClaimConfigurationNamesHandler(store EventStore, configurations ConfigurationLister, now Clock) (ClaimConfigurationNamesHandler, error) {
	if store == nil || configurations == nil || now == nil {
		return ClaimConfigurationNamesHandler{}, fmt.Errorf("new claim configuration names handler: %w", errNilDependency)
	}
	return ClaimConfigurationNamesHandler{store: store, configurations: configurations, now: now}, nil
}

// Handle claims the name of every configuration that does not hold it, oldest configuration
// first, so that of configurations stored with one name the oldest holds it. A configuration
// whose name another holds keeps its name all the same: it is never renamed or refused, and
// an edit keeping its name passes. A configuration already holding its name is not written
// to, so running it again, or on several instances at once, changes nothing.
func (h ClaimConfigurationNamesHandler) Handle(ctx context.Context, cmd ClaimConfigurationNames) (ClaimConfigurationNamesResult, error) {
	all, err := h.configurations.All(ctx)
	if err != nil {
		return ClaimConfigurationNamesResult{}, fmt.Errorf("list configurations: %w", err)
	}
	// Every instance sorts alike, so instances starting at once agree on who is oldest.
	slices.SortFunc(all, func(a, b domain.Configuration) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	res := ClaimConfigurationNamesResult{Configurations: len(all)}
	last := time.Now()
	for i, c := range all {
		claimed, err := h.claim(ctx, c)
		var taken *domain.ValidationError
		switch {
		case errors.As(err, &taken):
			res.Duplicates++
			if cmd.Duplicate != nil {
				cmd.Duplicate(c, taken.Fields[0].Message)
			}
		case err != nil:
			return res, err
		case claimed:
			res.Claimed++
		}
		if cmd.Progress != nil && time.Since(last) > 2*time.Second {
			cmd.Progress(i+1, len(all), res.Claimed)
			last = time.Now()
		}
	}
	return res, nil
}

// claim claims c's name unless c holds it already, and tells whether it did. The name being
// another configuration's is the validation error claimConfigurationName gives.
func (h ClaimConfigurationNamesHandler) claim(ctx context.Context, c domain.Configuration) (bool, error) {
	held, _, err := lastNameClaim(ctx, h.store, configurationNameStream(c.Account, configurationNameKey(c.Name)))
	if err != nil {
		return false, fmt.Errorf("read the claim on configuration name %q: %w", c.Name, err)
	}
	if held.Configuration == c.ID {
		return false, nil
	}
	if err := claimConfigurationName(ctx, h.store, h.now(), c.Account, c.Name, c.ID, c.Revision); err != nil {
		return false, err
	}
	return true, nil
}
