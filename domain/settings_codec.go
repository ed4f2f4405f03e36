package domain

import (
	"encoding/json"
	"fmt"
)

// The settings of each kind as stored in facts. Secret fields hold whatever the Secret holds:
// in facts that is always the sealed (encrypted) form.

type emailV1 struct {
	Host     string        `json:"host"`
	Port     int           `json:"port"`
	Username string        `json:"username,omitempty"`
	Password string        `json:"password,omitempty"`
	Security EmailSecurity `json:"use_tls"`
	From     string        `json:"from"`
	To       []string      `json:"to"`
}

type githubV1 struct {
	APIURL      string   `json:"api_url"`
	Owner       string   `json:"owner"`
	Repository  string   `json:"repository"`
	AccessToken string   `json:"access_token,omitempty"`
	Milestone   int      `json:"milestone,omitempty"`
	Labels      []string `json:"labels,omitempty"`
	Assignees   []string `json:"assignees,omitempty"`
}

type jiraV1 struct {
	URL        string   `json:"url"`
	Username   string   `json:"username"`
	APIToken   string   `json:"api_token,omitempty"`
	ProjectKey string   `json:"project_key"`
	IssueType  string   `json:"issue_type"`
	Priority   string   `json:"priority,omitempty"`
	Assignee   string   `json:"assignee,omitempty"`
	Labels     []string `json:"labels,omitempty"`
}

type webhookURLV1 struct {
	WebhookURL string `json:"webhook_url"`
}

type webhookV1 struct {
	URL        string            `json:"url"`
	Username   string            `json:"username,omitempty"`
	Password   string            `json:"password,omitempty"`
	HMACSecret string            `json:"hmac_secret,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
}

// EncodeSettings writes settings as stored in facts.
func EncodeSettings(s Settings) json.RawMessage {
	var w any
	switch s := s.(type) {
	case EmailSettings:
		w = emailV1{s.Host, s.Port, s.Username, s.Password.Reveal(), s.Security, s.From, s.To}
	case GitHubSettings:
		w = githubV1{s.APIURL, s.Owner, s.Repository, s.AccessToken.Reveal(), s.Milestone, s.Labels, s.Assignees}
	case JiraSettings:
		w = jiraV1{s.URL, s.Username, s.APIToken.Reveal(), s.ProjectKey, s.IssueType, s.Priority, s.Assignee, s.Labels}
	case SlackSettings:
		w = webhookURLV1{s.WebhookURL.Reveal()}
	case TeamsSettings:
		w = webhookURLV1{s.WebhookURL.Reveal()}
	case WebhookSettings:
		headers := make(map[string]string, len(s.Headers))
		for k, v := range s.Headers {
			headers[k] = v.Reveal()
		}
		w = webhookV1{s.URL, s.Username, s.Password.Reveal(), s.HMACSecret.Reveal(), headers}
	default:
		return nil
	}
	data, _ := json.Marshal(w)
	return data
}

// DecodeSettings reads settings of a kind as stored in facts.
func DecodeSettings(kind EndpointKind, data json.RawMessage) (Settings, error) {
	var err error
	var s Settings
	switch kind {
	case KindEmail:
		var w emailV1
		err = json.Unmarshal(data, &w)
		s = EmailSettings{w.Host, w.Port, w.Username, NewSecret(w.Password), w.Security, w.From, w.To}
	case KindGitHub:
		var w githubV1
		err = json.Unmarshal(data, &w)
		s = GitHubSettings{w.APIURL, w.Owner, w.Repository, NewSecret(w.AccessToken), w.Milestone, w.Labels, w.Assignees}
	case KindJira:
		var w jiraV1
		err = json.Unmarshal(data, &w)
		s = JiraSettings{w.URL, w.Username, NewSecret(w.APIToken), w.ProjectKey, w.IssueType, w.Priority, w.Assignee, w.Labels}
	case KindSlack:
		var w webhookURLV1
		err = json.Unmarshal(data, &w)
		s = SlackSettings{NewSecret(w.WebhookURL)}
	case KindTeams:
		var w webhookURLV1
		err = json.Unmarshal(data, &w)
		s = TeamsSettings{NewSecret(w.WebhookURL)}
	case KindWebhook:
		var w webhookV1
		err = json.Unmarshal(data, &w)
		headers := make(map[string]Secret, len(w.Headers))
		for k, v := range w.Headers {
			headers[k] = NewSecret(v)
		}
		s = WebhookSettings{w.URL, w.Username, NewSecret(w.Password), NewSecret(w.HMACSecret), headers}
	default:
		return nil, fmt.Errorf("decode settings: unknown endpoint kind %q", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s settings: %w", kind, err)
	}
	return s, nil
}
