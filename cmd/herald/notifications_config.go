package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"herald/domain"
)

const configFields = `id account kind name description verifyTls createdAt updatedAt revision
  selectors { scope level type resourceType }
  templates { title body }
  settings {
    __typename
    ... on EmailSettings { host port username hasPassword useTls from to }
    ... on GitHubSettings { apiUrl owner repository hasAccessToken milestone labels assignees }
    ... on JiraSettings { url username hasApiToken projectKey issueType priority assignee labels }
    ... on SlackSettings { hasWebhookUrl }
    ... on TeamsSettings { hasWebhookUrl }
    ... on WebhookSettings { url username hasPassword hasHmacSecret headerNames }
  }`

type wireSelector struct {
	Scope        string `json:"scope" yaml:"scope"`
	Level        string `json:"level" yaml:"level"`
	Type         string `json:"type" yaml:"type"`
	ResourceType string `json:"resourceType" yaml:"resourceType"`
}

type wireConfiguration struct {
	ID          string         `json:"id" yaml:"id"`
	Account     string         `json:"account" yaml:"account"`
	Kind        string         `json:"kind" yaml:"kind"`
	Name        string         `json:"name" yaml:"name"`
	Description string         `json:"description" yaml:"description"`
	VerifyTLS   bool           `json:"verifyTls" yaml:"verifyTls"`
	CreatedAt   string         `json:"createdAt" yaml:"createdAt"`
	UpdatedAt   string         `json:"updatedAt" yaml:"updatedAt"`
	Revision    int            `json:"revision" yaml:"revision"`
	Selectors   []wireSelector `json:"selectors" yaml:"selectors"`
	Settings    map[string]any `json:"settings" yaml:"settings"`
	Templates   wireTemplates  `json:"templates" yaml:"templates,omitempty"`
}

// wireTemplates are a configuration's message templates; empty ones are herald's defaults.
type wireTemplates struct {
	Title string `json:"title" yaml:"title,omitempty"`
	Body  string `json:"body" yaml:"body,omitempty"`
}

func newConfigCommand(url *clientConfig) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "List, show, add, edit and remove endpoint configurations",
		Long: `Endpoint configurations say where an account's notifications of one kind go (connection
settings) and which events (selectors). Credentials are write-only: they are never shown back,
only whether they are set; leave them out when editing to keep them.`,
	}
	cmd.AddCommand(newConfigListCommand(url), newConfigGetCommand(url), newConfigAddCommand(url), newConfigEditCommand(url), newConfigRemoveCommand(url), newConfigTestCommand(url))
	return cmd
}

func newConfigListCommand(url *clientConfig) *cobra.Command {
	var output, account string
	cmd := &cobra.Command{
		Use:   "list [KIND]",
		Short: "List the configurations of your account (admin: of every account)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vars := map[string]any{}
			if len(args) == 1 {
				kind, err := domain.ParseEndpointKind(args[0])
				if err != nil {
					return fmt.Errorf("KIND %q: use one of email, github, jira, slack, teams, webhook", args[0])
				}
				vars["kind"] = strings.ToUpper(string(kind))
			}
			if account != "" {
				vars["account"] = account
			}
			var data struct {
				List []wireConfiguration `json:"listNotificationEndpointConfigurations"`
			}
			q := `query($kind: EndpointKind, $account: String) { listNotificationEndpointConfigurations(kind: $kind, account: $account) { ` + configFields + ` } }`
			if err := newClient(url).do(cmd.Context(), q, vars, &data); err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd, data.List)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 4, ' ', 0)
			fmt.Fprintln(tw, "ID\tKind\tName\tAccount\tSelectors")
			for _, c := range data.List {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, strings.ToLower(c.Kind), printable(c.Name), c.Account, printable(selectorSummary(c.Selectors)))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&account, "account", "", "only this account's configurations (admin only)")
	addOutputFlag(cmd, &output, "table", "table", "json")
	return cmd
}

// selectorSummary prints selectors as scope/level/type/resource-type.
func selectorSummary(sels []wireSelector) string {
	parts := make([]string, len(sels))
	for i, s := range sels {
		parts[i] = strings.ToLower(s.Scope) + "/" + s.Level + "/" + s.Type + "/" + s.ResourceType
	}
	return strings.Join(parts, ", ")
}

func getConfiguration(cmd *cobra.Command, url *clientConfig, id string) (*wireConfiguration, error) {
	var data struct {
		Config *wireConfiguration `json:"getNotificationEndpointConfiguration"`
	}
	q := `query($id: ID!) { getNotificationEndpointConfiguration(id: $id) { ` + configFields + ` } }`
	if err := newClient(url).do(cmd.Context(), q, map[string]any{"id": id}, &data); err != nil {
		return nil, err
	}
	if data.Config == nil {
		return nil, domain.ConfigurationNotFound(id)
	}
	delete(data.Config.Settings, "__typename")
	return data.Config, nil
}

func newConfigGetCommand(url *clientConfig) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show a configuration with its settings (credentials only as set or not) and selectors",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := getConfiguration(cmd, url, args[0])
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd, c)
			}
			c.Kind = strings.ToLower(c.Kind)
			return printYAML(cmd, c)
		},
	}
	addOutputFlag(cmd, &output, "yaml", "yaml", "json")
	return cmd
}

func newConfigRemoveCommand(url *clientConfig) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a configuration and its selectors, for good",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes && !confirm(cmd, fmt.Sprintf("Really remove configuration %s? It cannot be recovered.", args[0])) {
				return fmt.Errorf("nothing removed (pass --yes to skip the question)")
			}
			const mutation = `mutation($id: ID!) { deleteNotificationEndpointConfiguration(id: $id) }`
			if err := newClient(url).do(cmd.Context(), mutation, map[string]any{"id": args[0]}, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed configuration %s\n", args[0])
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}
