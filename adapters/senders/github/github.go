// Package github opens a GitHub issue per notification, on github.com or on a GitHub
// Enterprise server, through go-github.
//
// Where requests go: an API URL equal to https://api.github.com (or empty) uses github.com's
// API as it is. Any other URL is treated as GitHub Enterprise and given to go-github's
// WithEnterpriseURLs, which uses it as it is when its path already ends in /api/v3 or its
// host starts with "api." (GitHub Enterprise Cloud's api.SUBDOMAIN.ghe.com), and otherwise
// appends /api/v3/, where GitHub Enterprise Server serves its REST API. So
// https://ghe.example.com and https://ghe.example.com/api/v3 reach the same endpoint.
package github

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	gh "github.com/google/go-github/v81/github"

	"herald/domain"
	"herald/notify"
)

// GitHub's validation limits, in characters: longer titles and bodies are refused with 422.
const (
	maxTitle = 256
	maxBody  = 65536
)

// Sender creates issues in the configuration's repository.
type Sender struct {
	clients notify.HTTPClients
}

// New builds a sender.
func New(clients notify.HTTPClients) *Sender { return &Sender{clients: clients} }

// Send implements notify.Sender.
func (s *Sender) Send(ctx context.Context, n notify.Notification) (notify.Receipt, error) {
	settings, ok := n.Configuration.Settings.(domain.GitHubSettings)
	if !ok {
		return notify.Receipt{}, &notify.SendError{Err: fmt.Errorf("configuration %s is not a github configuration", n.Configuration.ID)}
	}
	client, err := s.client(n.Configuration.VerifyTLS, settings)
	if err != nil {
		return notify.Receipt{}, err
	}
	issue, resp, err := client.Issues.Create(ctx, url.PathEscape(settings.Owner), url.PathEscape(settings.Repository), issueRequest(n, settings))
	if err != nil || issue.GetHTMLURL() == "" {
		return receiptOf(resp), sendError(resp, err, time.Now())
	}
	return notify.Receipt{Status: resp.StatusCode, Body: issue.GetHTMLURL()}, nil
}

// client is a go-github client for one send: rate limits are per token, so a client shared
// between configurations would hold one configuration back for another's limit.
func (s *Sender) client(verifyTLS bool, settings domain.GitHubSettings) (*gh.Client, error) {
	client := gh.NewClient(s.clients.For(verifyTLS)).WithAuthToken(settings.AccessToken.Reveal())
	client.UserAgent = "herald"
	apiURL := strings.TrimRight(settings.APIURL, "/")
	if apiURL == "" || strings.EqualFold(apiURL, domain.DefaultGitHubAPIURL) {
		return client, nil
	}
	enterprise, err := client.WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		// url.Parse quotes the URL in its error: say what is wrong without it.
		return nil, &notify.SendError{Err: errors.New("the configured API URL cannot be used for a request")}
	}
	return enterprise, nil
}

// issueRequest is the issue for n: its title (marked when n is a test), its text as
// Markdown, a link to the event and the idempotency key, and the configured labels,
// assignees and milestone.
func issueRequest(n notify.Notification, settings domain.GitHubSettings) *gh.IssueRequest {
	title := n.Title
	if n.Test {
		title = "[test] " + title
	}
	req := &gh.IssueRequest{Title: gh.Ptr(domain.Truncate(title, maxTitle)), Body: gh.Ptr(issueBody(n))}
	if len(settings.Labels) > 0 {
		req.Labels = &settings.Labels
	}
	if len(settings.Assignees) > 0 {
		req.Assignees = &settings.Assignees
	}
	if settings.Milestone != 0 {
		req.Milestone = &settings.Milestone
	}
	return req
}

// issueBody is n's text as Markdown, then a link to the event in the UI unless the text
// has it already (the default text does: GitHub links it), and the idempotency key in an
// HTML comment, invisible on the page, by which the issue can be found again.
func issueBody(n notify.Notification) string {
	key := fmt.Sprintf("\n\n<!-- herald:idempotency-key=%s -->\n", n.IdempotencyKey)
	text := strings.TrimRight(n.Text, "\n")
	if body := domain.Truncate(text, maxBody-utf8.RuneCountInString(key)); n.EventURL == "" || strings.Contains(body, n.EventURL) {
		return body + key // the link survived the cut, or there is none
	}
	footer := fmt.Sprintf("\n\n[Open the event in herald](%s)", n.EventURL) + key
	return domain.Truncate(text, maxBody-utf8.RuneCountInString(footer)) + footer
}

// receiptOf is what GitHub answered, when it answered.
func receiptOf(resp *gh.Response) notify.Receipt {
	if resp == nil || resp.Response == nil {
		return notify.Receipt{}
	}
	return notify.Receipt{Status: resp.StatusCode}
}

var _ notify.Sender = (*Sender)(nil)
