package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"herald/graph"
)

// client talks to a herald server's GraphQL API.
type client struct {
	url  string // base URL of the server
	auth string // Authorization header, if any
	// badCredentials is why the credentials given cannot sign in, found before sending
	// anything (a user without a password).
	badCredentials error
	http           *http.Client
}

// clientConfig is where a client command finds the server and its credentials.
type clientConfig struct {
	URL, User, Password, Token string
}

func addClientFlags(cmd *cobra.Command, c *clientConfig) {
	f := cmd.PersistentFlags()
	f.StringVar(&c.URL, "url", "http://localhost:8228", "base URL of the herald server")
	f.StringVar(&c.User, "user", "", "user name to sign in with (with --password)")
	f.StringVar(&c.Password, "password", "", "password of --user")
	f.StringVar(&c.Token, "token", "", "API token to sign in with (instead of --user and --password)")
}

func newClient(c *clientConfig) *client {
	cl := &client{url: strings.TrimRight(c.URL, "/"), http: &http.Client{Timeout: 5 * time.Minute}}
	switch {
	case c.Token != "":
		cl.auth = "Bearer " + c.Token
	case c.User != "" && c.Password == "":
		cl.badCredentials = fmt.Errorf("--user %s needs a password: give it with --password or HERALD_PASSWORD, or sign in with --token (HERALD_TOKEN) instead; %s", c.User, adminPasswordHint)
	case c.User != "":
		req := http.Request{Header: http.Header{}}
		req.SetBasicAuth(c.User, c.Password)
		cl.auth = req.Header.Get("Authorization")
	}
	return cl
}

// adminPasswordHint is where a new server's admin password is.
const adminPasswordHint = "when herald generated the first admin user's password, it is in <data-dir>/admin-password on the server"

// gqlError is an error the server returned, with its code.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// serverError is the errors of one response.
type serverError struct{ errs []gqlError }

func (e *serverError) Error() string {
	msgs := make([]string, len(e.errs))
	for i, g := range e.errs {
		msgs[i] = g.Message
	}
	return strings.Join(msgs, "; ")
}

// Code returns the code of the first error.
func (e *serverError) Code() string {
	if len(e.errs) == 0 {
		return ""
	}
	code, _ := e.errs[0].Extensions["code"].(string)
	return code
}

// do runs one operation and decodes its data into out.
func (c *client) do(ctx context.Context, query string, vars map[string]any, out any) error {
	if c.badCredentials != nil {
		return c.badCredentials
	}
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("--url %q: %w", c.url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the herald server at %s (start one with 'herald serve', or set --url or HERALD_URL): %w", c.url, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read response from %s: %w", c.url, err)
	}
	var envelope struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(raw, &envelope); err != nil {
		return fmt.Errorf("%s answered %s, which is not a herald GraphQL response: %.200s", c.url, resp.Status, raw)
	}
	if len(envelope.Errors) > 0 {
		err := &serverError{errs: envelope.Errors}
		if c.auth == "" && err.Code() == graph.CodeUnauthenticated {
			return fmt.Errorf("%w: sign in with --user and --password (HERALD_USER and HERALD_PASSWORD) or --token (HERALD_TOKEN); %s", err, adminPasswordHint)
		}
		return err
	}
	if out != nil {
		if err := json.Unmarshal(envelope.Data, out); err != nil {
			return fmt.Errorf("decode response: %w", err)
		}
	}
	return nil
}
