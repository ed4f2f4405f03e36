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
)

// client talks to a herald server's GraphQL API.
type client struct {
	url  string // base URL of the server
	http *http.Client
}

func addClientFlags(cmd *cobra.Command, url *string) {
	cmd.PersistentFlags().StringVar(url, "url", "http://localhost:8228", "base URL of the herald server")
}

func newClient(url string) *client {
	return &client{url: strings.TrimRight(url, "/"), http: &http.Client{Timeout: 5 * time.Minute}}
}

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
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/graphql", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("--url %q: %w", c.url, err)
	}
	req.Header.Set("Content-Type", "application/json")
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
		return &serverError{errs: envelope.Errors}
	}
	if out != nil {
		if err := json.Unmarshal(envelope.Data, out); err != nil {
			return fmt.Errorf("decode response: %w", err)
		}
	}
	return nil
}
