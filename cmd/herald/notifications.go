package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"herald/domain"
)

func newNotificationsCommand() *cobra.Command {
	var url clientConfig
	cmd := &cobra.Command{
		Use:   "notifications",
		Short: "Manage notification endpoints and their configurations",
		Long: `Manage where notifications go: the endpoint kinds (email, github, jira, slack, teams,
webhook) and their system-wide status, and the endpoint configurations of your account with
their selectors; test a configuration, look at the delivery history, and backfill history
through a configuration.`,
	}
	addClientFlags(cmd, &url)
	endpoint := &cobra.Command{Use: "endpoint", Short: "Enable or disable an endpoint kind system-wide (admin only)"}
	endpoint.AddCommand(newEndpointToggleCommand(&url, true), newEndpointToggleCommand(&url, false))
	cmd.AddCommand(newEndpointsCommand(&url), endpoint, newConfigCommand(&url), newDeliveriesCommand(&url), newBackfillCommand(&url))
	return cmd
}

const endpointsQuery = `query { listNotificationEndpoints { kind description enabled } }`

type wireEndpoint struct {
	Kind        string `json:"kind"`
	Description string `json:"description"`
	Enabled     bool   `json:"enabled"`
}

func newEndpointsCommand(url *clientConfig) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "endpoints",
		Short: "List the endpoint kinds and whether each is enabled",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var data struct {
				Endpoints []wireEndpoint `json:"listNotificationEndpoints"`
			}
			if err := newClient(url).do(cmd.Context(), endpointsQuery, nil, &data); err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd, data.Endpoints)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 4, ' ', 0)
			fmt.Fprintln(tw, "Endpoint\tStatus\tDescription")
			for _, e := range data.Endpoints {
				status := "enabled"
				if !e.Enabled {
					status = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.ToLower(e.Kind), status, e.Description)
			}
			return tw.Flush()
		},
	}
	addOutputFlag(cmd, &output, "table", "table", "json")
	return cmd
}

func newEndpointToggleCommand(url *clientConfig, enable bool) *cobra.Command {
	verb, past := "disable", "Disabled"
	if enable {
		verb, past = "enable", "Enabled"
	}
	return &cobra.Command{
		Use:   verb + " KIND",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " an endpoint kind for every account (admin only)",
		Long: `Disabling a kind stops every notification to configurations of that kind, in every
account; configurations stay editable and testable. Enabling it lets new events flow again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := domain.ParseEndpointKind(args[0])
			if err != nil {
				return fmt.Errorf("KIND %q: use one of email, github, jira, slack, teams, webhook", args[0])
			}
			const mutation = `mutation($kind: EndpointKind!, $enabled: Boolean!) { updateNotificationEndpointStatus(kind: $kind, enabled: $enabled) { kind enabled } }`
			vars := map[string]any{"kind": strings.ToUpper(string(kind)), "enabled": enable}
			if err := newClient(url).do(cmd.Context(), mutation, vars, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s the %s endpoint\n", past, kind)
			return nil
		},
	}
}

func addOutputFlag(cmd *cobra.Command, output *string, def string, allowed ...string) {
	formats := strings.Join(allowed, " or ")
	if n := len(allowed); n > 2 {
		formats = strings.Join(allowed[:n-1], ", ") + " or " + allowed[n-1]
	}
	cmd.Flags().StringVarP(output, "output", "o", def, "output format: "+formats)
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		for _, a := range allowed {
			if *output == a {
				if prev != nil {
					return prev(c, args)
				}
				return nil
			}
		}
		return fmt.Errorf("-o %q: use %s", *output, formats)
	}
}
