package commands

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"herald/domain"
)

// UpdateConfiguration replaces a configuration's name, description, TLS verification,
// settings and (when Draft.Selectors is not nil) selectors. A credential left empty in the
// draft keeps its stored value, since the API never shows credentials back.
type UpdateConfiguration struct {
	Actor            domain.Actor
	ID               string
	Draft            domain.ConfigurationDraft
	ExpectedRevision *uint64 // optimistic concurrency: fail if someone changed it meanwhile
	// Remove names the credentials (by their settings field: password, hmacSecret, ...) that
	// the draft leaves empty to remove them; other credentials left empty keep their values.
	Remove []string
}

// UpdateConfigurationHandler handles UpdateConfiguration.
type UpdateConfigurationHandler struct {
	store  EventStore
	sealer SecretSealer
	now    Clock
}

// NewUpdateConfigurationHandler builds the handler.
func NewUpdateConfigurationHandler(store EventStore, sealer SecretSealer, now Clock) (UpdateConfigurationHandler, error) {
	if store == nil || sealer == nil || now == nil {
		return UpdateConfigurationHandler{}, fmt.Errorf("new update configuration handler: %w", errNilDependency)
	}
	return UpdateConfigurationHandler{store: store, sealer: sealer, now: now}, nil
}

// Handle appends ConfigurationUpdated and returns the position of the fact. A new name is
// claimed in the account first. A selector that repeats another is dropped (see
// domain.DistinctSelectors).
func (h UpdateConfigurationHandler) Handle(ctx context.Context, cmd UpdateConfiguration) (uint64, error) {
	if err := cmd.Actor.Require(domain.UpdateNotificationEndpointConfiguration); err != nil {
		return 0, err
	}
	current, at, err := loadConfiguration(ctx, h.store, cmd.Actor, cmd.ID)
	if err != nil {
		return 0, err
	}
	if cmd.ExpectedRevision != nil && *cmd.ExpectedRevision != current.Revision {
		return 0, fmt.Errorf("configuration %s is at revision %d, not %d: %w", cmd.ID, current.Revision, *cmd.ExpectedRevision, domain.ErrConcurrency)
	}
	draft := cmd.Draft
	if draft.Settings != nil && draft.Settings.Kind() != current.Kind {
		return 0, invalid("kind", "configuration %s is a %s configuration; its kind cannot change", cmd.ID, current.Kind)
	}
	if draft.Selectors == nil {
		draft.Selectors = current.Selectors // validated as a whole below
	}
	tlsOff := current.VerifyTLS && !draft.VerifyTLS
	var kept domain.Settings // current's settings, opened
	switch {
	case draft.Settings != nil:
		if kept, err = openSettings(current.Settings, h.sealer); err != nil {
			return 0, err
		}
		given := draft.Settings
		if draft.Settings, err = keepSecrets(given, kept, tlsOff, cmd.Remove); err != nil {
			draft.Settings = given
			return 0, withDraftProblems(err, draft, current.Account)
		}
	case tlsOff && holdsCredentials(current.Settings):
		return 0, invalid("settings", "give the settings with every credential again: TLS verification is being turned off, and a stored credential is not sent over a connection that is not verified unless it is given again")
	}
	if err := draft.Validate(current.Account); err != nil {
		return 0, err
	}
	draft.Selectors = domain.DistinctSelectors(draft.Selectors)
	if unchanged(current, kept, draft) {
		return at, nil // the views hold it already
	}
	if draft.Settings, err = sealSettings(draft.Settings, h.sealer); err != nil {
		return 0, err
	}
	// A name kept (whatever its case or spacing) is not checked again: configurations stored
	// with one name before names were unique keep working.
	if configurationNameKey(draft.Name) != configurationNameKey(current.Name) {
		if err := claimConfigurationName(ctx, h.store, h.now(), current.Account, draft.Name, cmd.ID, current.Revision+1); err != nil {
			return 0, err
		}
	}
	return appendConfigurationFact(ctx, h.store, cmd.ID, domain.Exact(current.Revision), domain.ConfigurationUpdated{Draft: draft, At: h.now()})
}

// unchanged tells whether draft, validated (so with settings), gives current's values again
// (opened: current's settings opened). Such an edit records nothing: the revision stays, and
// so do the history and the views, as a re-applied manifest leaves a Kubernetes object's
// resourceVersion. Lists are compared loosely: the API gives them back as [], which a stored
// configuration decodes as nil.
func unchanged(current domain.Configuration, opened domain.Settings, draft domain.ConfigurationDraft) bool {
	return draft.Name == current.Name && draft.Description == current.Description && draft.VerifyTLS == current.VerifyTLS &&
		draft.Templates == current.Templates && domain.LooseEqual(draft.Settings, opened) && domain.LooseEqual(draft.Selectors, current.Selectors)
}

// withDraftProblems adds to keepSecrets' refusal what else is wrong with the draft: a URL
// that is no URL changes the destination, and "give the credential again" alone would hide
// that the URL is what is wrong. Fields keepSecrets named keep its message.
func withDraftProblems(secrets error, draft domain.ConfigurationDraft, account string) error {
	var named, others *domain.ValidationError
	if !errors.As(secrets, &named) || !errors.As(draft.Validate(account), &others) {
		return secrets
	}
	merged := &domain.ValidationError{Subject: named.Subject}
	for _, f := range others.Fields {
		if !slices.ContainsFunc(named.Fields, func(n domain.FieldError) bool { return n.Field == f.Field }) {
			merged.Fields = append(merged.Fields, f)
		}
	}
	merged.Fields = append(merged.Fields, named.Fields...)
	return merged
}

// holdsCredentials tells whether any credential of s is set.
func holdsCredentials(s domain.Settings) bool {
	for _, set := range domain.SecretFields(s) {
		if set {
			return true
		}
	}
	return false
}

// keepSecrets fills every credential left empty in next with its value in current, except
// those named in remove, which stay empty. When next
// sends elsewhere than current (domain.Destination: another URL, another SMTP server) or TLS
// verification is being turned off, nothing is carried over: a credential left empty then is
// an error, so that whoever may edit a configuration cannot have its stored credentials sent
// to an endpoint of their choosing.
func keepSecrets(next, current domain.Settings, tlsOff bool, remove []string) (domain.Settings, error) {
	old := map[string]domain.Secret{}
	_, _ = current.MapSecrets(func(field string, s domain.Secret) (domain.Secret, error) {
		old[field] = s
		return s, nil
	})
	var why string
	switch from, to := domain.Destination(current), domain.Destination(next); {
	case from != to:
		why = fmt.Sprintf("the settings now send to %s instead of %s", to, from)
	case tlsOff:
		why = "TLS verification is being turned off"
	}
	v := &domain.ValidationError{}
	merged, _ := next.MapSecrets(func(field string, s domain.Secret) (domain.Secret, error) {
		switch {
		case s.IsSet() || !old[field].IsSet() || slices.Contains(remove, field):
			return s, nil
		case why != "":
			v.Fields = append(v.Fields, domain.FieldError{Field: "settings." + field, Message: fmt.Sprintf(
				"give it again: %s, and a stored credential is not carried over", why)})
			return s, nil
		default:
			return old[field], nil
		}
	})
	if len(v.Fields) > 0 {
		return nil, v
	}
	return merged, nil
}
