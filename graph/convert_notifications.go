package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"herald/domain"
	"herald/graph/model"
)

func kindOf(k model.EndpointKind) domain.EndpointKind {
	return domain.EndpointKind(strings.ToLower(string(k)))
}

func modelKind(k domain.EndpointKind) model.EndpointKind {
	return model.EndpointKind(strings.ToUpper(string(k)))
}

func scopeOf(s *model.Scope) domain.Scope {
	if s != nil && *s == model.ScopeGlobal {
		return domain.ScopeGlobal
	}
	return domain.ScopeAccount
}

func modelSelector(s domain.Selector) model.Selector {
	scope := model.ScopeAccount
	if s.Scope == domain.ScopeGlobal {
		scope = model.ScopeGlobal
	}
	return model.Selector{Scope: scope, Level: s.Level, Type: s.Type, ResourceType: s.ResourceType}
}

func value[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// draftOf reads a ConfigurationInput for a configuration of kind owned by account. Settings
// of another kind than the configuration's, or of several kinds, are an error.
func draftOf(kind domain.EndpointKind, in model.ConfigurationInput, account string) (domain.ConfigurationDraft, error) {
	d := domain.ConfigurationDraft{Name: strings.TrimSpace(in.Name), Description: value(in.Description, ""), VerifyTLS: value(in.VerifyTLS, true)}
	given := map[domain.EndpointKind]bool{
		domain.KindEmail: in.Email != nil, domain.KindGitHub: in.Github != nil, domain.KindJira: in.Jira != nil,
		domain.KindSlack: in.Slack != nil, domain.KindTeams: in.Teams != nil, domain.KindWebhook: in.Webhook != nil,
	}
	v := &domain.ValidationError{}
	for k, ok := range given {
		if ok && k != kind {
			v.Fields = append(v.Fields, domain.FieldError{Field: string(k), Message: fmt.Sprintf("this is a %s configuration: give its settings in %s, not in %s", kind, kind, k)})
		}
	}
	if !given[kind] {
		v.Fields = append(v.Fields, domain.FieldError{Field: string(kind), Message: fmt.Sprintf("the %s settings are required", kind)})
	}
	if kind == domain.KindWebhook && in.Webhook != nil {
		// settingsOf keeps one value per name; domain refuses names that differ only in case
		seen := make(map[string]bool, len(in.Webhook.Headers))
		for _, h := range in.Webhook.Headers {
			if seen[h.Name] {
				v.Fields = append(v.Fields, domain.FieldError{Field: "webhook.headers", Message: fmt.Sprintf("%s is given twice; give each header once", domain.Quote(h.Name))})
				break
			}
			seen[h.Name] = true
		}
	}
	if len(v.Fields) > 0 {
		return d, v
	}
	d.Settings = settingsOf(kind, in)
	if t := in.Templates; t != nil {
		d.Templates = domain.MessageTemplates{Title: value(t.Title, ""), Body: value(t.Body, "")}
	}
	if in.Selectors == nil && in.QuickSelections == nil {
		return d, nil // update: keep the selectors
	}
	d.Selectors = []domain.Selector{}
	admin := account == domain.AdminAccount
	// Every selector's errors at once, so that a user fixes them in one go.
	bad := &domain.ValidationError{}
	for i, s := range in.Selectors {
		sel, err := domain.NewSelector(scopeOf(s.Scope), value(s.Level, "*"), s.Type, value(s.ResourceType, "*"), true)
		if err != nil {
			if !addFields(bad, inputPath(err, "", fmt.Sprintf("selectors[%d]", i))) {
				return d, err
			}
			continue
		}
		d.Selectors = append(d.Selectors, sel)
	}
	for i, name := range in.QuickSelections {
		field := fmt.Sprintf("quickSelections[%d]", i)
		q, ok := domain.LookupQuickSelection(name)
		if !ok {
			bad.Fields = append(bad.Fields, domain.FieldError{Field: field, Message: fmt.Sprintf("%s is not a quick selection; use one of %s", domain.Quote(name), strings.Join(domain.QuickSelectionNames(), ", "))})
			continue
		}
		if q.Scope == domain.ScopeGlobal && !admin { // Selector would say "use account", a selector's word
			bad.Fields = append(bad.Fields, domain.FieldError{Field: field,
				Message: fmt.Sprintf("%s: global scope is reserved to the admin account; use %s", name, strings.TrimPrefix(name, "global-"))})
			continue
		}
		sel, err := q.Selector(admin)
		if err != nil {
			if !addFields(bad, inputPath(err, "", field)) {
				return d, err
			}
			continue
		}
		d.Selectors = append(d.Selectors, sel)
	}
	if len(bad.Fields) > 0 {
		return d, bad
	}
	return d, nil
}

// addFields adds the field errors of err, a validation error, to v; it reports false for an
// error of another kind.
func addFields(v *domain.ValidationError, err error) bool {
	var fields *domain.ValidationError
	if !errors.As(err, &fields) {
		return false
	}
	v.Fields = append(v.Fields, fields.Fields...)
	return true
}

func settingsOf(kind domain.EndpointKind, in model.ConfigurationInput) domain.Settings {
	secret := func(p *string) domain.Secret { return domain.NewSecret(value(p, "")) }
	switch kind {
	case domain.KindEmail:
		e := in.Email
		security := domain.EmailSecurity(strings.ToLower(string(value(e.UseTLS, model.EmailSecurityStarttls))))
		return domain.EmailSettings{Host: value(e.Host, ""), Port: value(e.Port, security.DefaultPort()), Username: value(e.Username, ""), Password: secret(e.Password),
			Security: security, From: value(e.From, ""), To: e.To}
	case domain.KindGitHub:
		g := in.Github
		return domain.GitHubSettings{APIURL: value(g.APIURL, domain.DefaultGitHubAPIURL), Owner: value(g.Owner, ""), Repository: value(g.Repository, ""),
			AccessToken: secret(g.AccessToken), Milestone: value(g.Milestone, 0), Labels: g.Labels, Assignees: g.Assignees}
	case domain.KindJira:
		j := in.Jira
		return domain.JiraSettings{URL: value(j.URL, ""), Username: value(j.Username, ""), APIToken: secret(j.APIToken), ProjectKey: value(j.ProjectKey, ""),
			IssueType: value(j.IssueType, domain.DefaultJiraIssueType), Priority: value(j.Priority, ""), Assignee: value(j.Assignee, ""), Labels: j.Labels}
	case domain.KindSlack:
		return domain.SlackSettings{WebhookURL: secret(in.Slack.WebhookURL)}
	case domain.KindTeams:
		return domain.TeamsSettings{WebhookURL: secret(in.Teams.WebhookURL)}
	case domain.KindWebhook:
		w := in.Webhook
		headers := map[string]domain.Secret{}
		for _, h := range w.Headers {
			headers[h.Name] = domain.NewSecret(h.Value)
		}
		return domain.WebhookSettings{URL: value(w.URL, ""), Username: value(w.Username, ""), Password: secret(w.Password), HMACSecret: secret(w.HmacSecret), Headers: headers}
	}
	return nil
}

// removedCredentials names the credentials an update gives as "": to remove them. Left out
// (null), a credential keeps its stored value.
func removedCredentials(in model.ConfigurationInput) []string {
	var out []string
	add := func(field string, p *string) {
		if p != nil && *p == "" {
			out = append(out, field)
		}
	}
	switch {
	case in.Email != nil:
		add("password", in.Email.Password)
	case in.Github != nil:
		add("accessToken", in.Github.AccessToken)
	case in.Jira != nil:
		add("apiToken", in.Jira.APIToken)
	case in.Slack != nil:
		add("webhookUrl", in.Slack.WebhookURL)
	case in.Teams != nil:
		add("webhookUrl", in.Teams.WebhookURL)
	case in.Webhook != nil:
		add("password", in.Webhook.Password)
		add("hmacSecret", in.Webhook.HmacSecret)
	}
	return out
}

// modelConfiguration shows a configuration without its credentials: only whether they are set.
func modelConfiguration(c domain.Configuration) *model.NotificationEndpointConfiguration {
	out := &model.NotificationEndpointConfiguration{
		ID: c.ID, Account: c.Account, Kind: modelKind(c.Kind), Name: c.Name, Description: c.Description,
		VerifyTLS: c.VerifyTLS, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Revision: int(c.Revision),
		Settings: modelSettings(c.Settings), Selectors: make([]model.Selector, len(c.Selectors)),
		Templates: &model.MessageTemplates{Title: c.Templates.Title, Body: c.Templates.Body},
	}
	for i, s := range c.Selectors {
		out.Selectors[i] = modelSelector(s)
	}
	return out
}

func modelSettings(s domain.Settings) model.EndpointSettings {
	switch s := s.(type) {
	case domain.EmailSettings:
		return model.EmailSettings{Host: s.Host, Port: s.Port, Username: optional(s.Username), HasPassword: s.Password.IsSet(),
			UseTLS: model.EmailSecurity(strings.ToUpper(string(s.Security))), From: s.From, To: nonNil(s.To)}
	case domain.GitHubSettings:
		out := model.GitHubSettings{APIURL: s.APIURL, Owner: s.Owner, Repository: s.Repository, HasAccessToken: s.AccessToken.IsSet(), Labels: nonNil(s.Labels), Assignees: nonNil(s.Assignees)}
		if s.Milestone > 0 {
			out.Milestone = &s.Milestone
		}
		return out
	case domain.JiraSettings:
		return model.JiraSettings{URL: s.URL, Username: optional(s.Username), HasAPIToken: s.APIToken.IsSet(), ProjectKey: s.ProjectKey, IssueType: s.IssueType,
			Priority: optional(s.Priority), Assignee: optional(s.Assignee), Labels: nonNil(s.Labels)}
	case domain.SlackSettings:
		return model.SlackSettings{HasWebhookURL: s.WebhookURL.IsSet()}
	case domain.TeamsSettings:
		return model.TeamsSettings{HasWebhookURL: s.WebhookURL.IsSet()}
	case domain.WebhookSettings:
		names := make([]string, 0, len(s.Headers))
		for name := range s.Headers {
			names = append(names, name)
		}
		slices.Sort(names)
		return model.WebhookSettings{URL: s.URL, Username: optional(s.Username), HasPassword: s.Password.IsSet(), HasHmacSecret: s.HMACSecret.IsSet(), HeaderNames: names}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// configuration reads one configuration as the actor sees it.
func (r *Resolver) configuration(ctx context.Context, actor domain.Actor, id string) (*model.NotificationEndpointConfiguration, error) {
	c, err := r.Notifications.Queries.Configuration(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	return modelConfiguration(c), nil
}

// keepHeaders keeps a webhook's headers when an update leaves them out: their names are
// carried over with empty values, which the update command fills from the stored ones.
func keepHeaders(next, current domain.Settings, in model.ConfigurationInput) domain.Settings {
	w, ok := next.(domain.WebhookSettings)
	old, wasWebhook := current.(domain.WebhookSettings)
	if !ok || !wasWebhook || in.Webhook == nil || in.Webhook.Headers != nil {
		return next
	}
	w.Headers = make(map[string]domain.Secret, len(old.Headers))
	for name := range old.Headers {
		w.Headers[name] = domain.Secret{}
	}
	return w
}

// draftPath names the fields of a draft's errors as the input has them: the settings of a
// kind are in the kind's field (input.email.port, not settings.port).
func draftPath(err error, kind domain.EndpointKind) error {
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return inputPath(err, "", "input")
	}
	out := &domain.ValidationError{Fields: make([]domain.FieldError, len(v.Fields))}
	for i, f := range v.Fields {
		if rest, ok := strings.CutPrefix(f.Field, "settings."); ok {
			f.Field = string(kind) + "." + rest
		} else if f.Field == "settings" {
			f.Field = string(kind)
		}
		out.Fields[i] = domain.FieldError{Field: "input." + f.Field, Message: f.Message}
	}
	return out
}
