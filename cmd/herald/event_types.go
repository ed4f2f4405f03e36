package main

import (
	"cmp"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// wireEventType is an event type as the API returns it.
type wireEventType struct {
	Name         string  `json:"name"`
	Category     string  `json:"category"`
	Description  string  `json:"description"`
	Level        *string `json:"level"`
	ResourceType string  `json:"resourceType"`
	Known        bool    `json:"known"`
}

const eventTypesQuery = `{ eventTypes { name category description level resourceType known } }`

func newEventTypesCommand(url *clientConfig) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "types",
		Short: "List the event types: herald's catalog, and the others seen in your events",
		Long: `List the event types selectors and --type filters can name: herald's catalog of known
types, with their usual level, the kind of resource they are about and what they mean, and the
other types seen in the events you may see (in every account's, for the admin account), in
the order of their names.`,
		Example: `  herald event types
  herald event types -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var data struct {
				Types []wireEventType `json:"eventTypes"`
			}
			if err := newClient(url).do(cmd.Context(), eventTypesQuery, nil, &data); err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd, data.Types)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "Type\tLevel\tResource type\tDescription")
			for _, t := range data.Types {
				level, description := "-", t.Description
				if t.Level != nil {
					level = lower(*t.Level)
				}
				if !t.Known {
					description = "(not in herald's catalog; seen in the log)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", printable(t.Name), level, printable(cmp.Or(t.ResourceType, "-")), printable(description))
			}
			return tw.Flush()
		},
	}
	addOutputFlag(cmd, &output, "table", "table", "json")
	return cmd
}
