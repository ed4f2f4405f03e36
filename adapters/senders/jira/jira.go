// Package jira opens a Jira issue per notification, on Jira Cloud or Jira Server/Data
// Center.
//
// It calls the REST API directly: herald needs one endpoint (POST /rest/api/2/issue), and
// no maintained Go client covers both Cloud and Server/Data Center without pulling in far
// more than that. Version 2 of the API is served by both and takes the description as plain
// (wiki) text, where Cloud's version 3 would want Atlassian Document Format.
//
// Requests authenticate with Basic auth: on Cloud the username is the account's email and
// the token an API token; on Server/Data Center they are a username and its password.
package jira

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"

	"herald/domain"
	"herald/notify"
)

// Jira's field limits, in UTF-16 code units as Java counts a string's length.
const (
	maxSummary     = 255
	maxDescription = 32767
)

// Sender creates issues in the configuration's Jira project.
type Sender struct {
	clients notify.HTTPClients
}

// New builds a sender.
func New(clients notify.HTTPClients) *Sender { return &Sender{clients: clients} }

// Send implements notify.Sender.
func (s *Sender) Send(ctx context.Context, n notify.Notification) (notify.Receipt, error) {
	settings, ok := n.Configuration.Settings.(domain.JiraSettings)
	if !ok {
		return notify.Receipt{}, &notify.SendError{Err: fmt.Errorf("configuration %s is not a jira configuration", n.Configuration.ID)}
	}
	endpoint, err := issueEndpoint(settings.URL)
	if err != nil {
		return notify.Receipt{}, err
	}
	body, err := json.Marshal(issueRequest{Fields: fieldsFor(n, settings)})
	if err != nil {
		return notify.Receipt{}, &notify.SendError{Err: fmt.Errorf("encode the issue: %w", err)}
	}
	header := http.Header{}
	header.Set("Accept", "application/json")
	header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(settings.Username+":"+settings.APIToken.Reveal())))
	receipt, err := notify.PostJSON(ctx, s.clients.For(n.Configuration.VerifyTLS), endpoint, body, header)
	if err != nil {
		return receipt, explained(err, receipt.Body)
	}
	var created struct {
		Key string `json:"key"` // beside "id" and "self"
	}
	if json.Unmarshal([]byte(receipt.Body), &created) != nil || created.Key == "" {
		// A 2xx that is not an issue (a proxy's page, say): perhaps nothing was created, but
		// trying again could open the issue twice.
		return receipt, &notify.SendError{Status: receipt.Status, Err: errors.New("the answer is not the created issue")}
	}
	return notify.Receipt{Status: receipt.Status, Body: created.Key}, nil
}

// issueEndpoint is the create-issue resource under the configured URL, which may end in a
// slash or carry a context path (https://host/jira).
func issueEndpoint(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		// url.Parse quotes the URL in its error: say what is wrong without it.
		return "", &notify.SendError{Err: errors.New("the configured URL cannot be used for a request")}
	}
	return u.JoinPath("rest", "api", "2", "issue").String(), nil
}

type issueRequest struct {
	Fields fields `json:"fields"`
}

// fields are those of a new issue. Optional ones are left out when not configured: Jira
// refuses any field, even empty, that is not on the project's create screen.
type fields struct {
	Project     project  `json:"project"`
	Summary     string   `json:"summary"`
	Description string   `json:"description,omitempty"`
	IssueType   named    `json:"issuetype"`
	Priority    *named   `json:"priority,omitempty"`
	Labels      []string `json:"labels,omitempty"`
	Assignee    *user    `json:"assignee,omitempty"`
}

type project struct {
	Key string `json:"key"`
}

type named struct {
	Name string `json:"name"`
}

// user is an assignee: by name on Server/Data Center, by account id on Cloud.
type user struct {
	Name      string `json:"name,omitempty"`
	AccountID string `json:"accountId,omitempty"`
}

func fieldsFor(n notify.Notification, settings domain.JiraSettings) fields {
	title := n.Title
	if n.Test {
		title = "[test] " + title
	}
	f := fields{
		Project: project{Key: settings.ProjectKey}, IssueType: named{Name: settings.IssueType},
		Summary: truncate(title, maxSummary), Description: truncate(n.Text, maxDescription),
	}
	if settings.Priority != "" {
		f.Priority = &named{Name: settings.Priority}
	}
	for _, label := range settings.Labels {
		if label = strings.TrimSpace(label); label != "" {
			f.Labels = append(f.Labels, strings.Map(dashForSpace, label))
		}
	}
	switch a := settings.Assignee; {
	case a == "":
	case isCloudAccountID(a):
		f.Assignee = &user{AccountID: a}
	default:
		f.Assignee = &user{Name: a}
	}
	return f
}

// isCloudAccountID tells a Jira Cloud account id ("5b10ac8d82e05b22cc7d4ef5", or
// "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077") from a Server/Data Center username: Cloud
// no longer accepts names, and Server has no account ids.
func isCloudAccountID(s string) bool {
	if strings.Contains(s, ":") {
		return true
	}
	return len(s) >= 24 && strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

// dashForSpace keeps labels valid: Jira refuses labels with spaces.
func dashForSpace(r rune) rune {
	if unicode.IsSpace(r) {
		return '-'
	}
	return r
}

// explained replaces the body quoted in a SendError with what Jira's error body says,
// {"errorMessages":[...],"errors":{"field":"message"}}, so that users see which field Jira
// refused.
func explained(err error, answer string) error {
	var se *notify.SendError
	if !errors.As(err, &se) || se.Status == 0 {
		return err
	}
	var refusal struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if json.Unmarshal([]byte(answer), &refusal) != nil {
		return err
	}
	reasons := slices.Clone(refusal.ErrorMessages)
	for _, field := range slices.Sorted(maps.Keys(refusal.Errors)) {
		reasons = append(reasons, field+": "+refusal.Errors[field])
	}
	if len(reasons) > 0 {
		se.Err = fmt.Errorf("%s: %s", http.StatusText(se.Status), strings.Join(reasons, "; "))
	}
	return err
}

// truncate keeps s within n UTF-16 code units.
func truncate(s string, n int) string {
	if len(utf16.Encode([]rune(s))) <= n {
		return s
	}
	units := 0
	for i, r := range s {
		if units += utf16.RuneLen(r); units > n-1 { // room for the ellipsis
			return s[:i] + "…"
		}
	}
	return s
}

var _ notify.Sender = (*Sender)(nil)
