package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

const getQuery = `query($id: ID!) { event(id: $id) { ` + eventFields + ` } }`

func newEventGetCommand(url *clientConfig) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show one event with all its details",
		Example: `  herald event get d77736ac78a043a9b84b3a1b8171aa44
  herald event get d77736ac78a043a9b84b3a1b8171aa44 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var data struct {
				Event *wireEvent `json:"event"`
			}
			if err := newClient(url).do(cmd.Context(), getQuery, map[string]any{"id": args[0]}, &data); err != nil {
				return err
			}
			if data.Event == nil {
				return fmt.Errorf("no event with id %s", args[0])
			}
			e := producerForm([]wireEvent{*data.Event})[0]
			if output == "json" {
				return printJSON(cmd, e)
			}
			return printEventYAML(cmd, *data.Event, e)
		},
	}
	addOutputFlag(cmd, &output, "yaml", "yaml", "json")
	return cmd
}

// printEventYAML prints the engine's layout: keys in alphabetical order, the level in capitals,
// the timestamp quoted, details as nested YAML.
func printEventYAML(cmd *cobra.Command, w wireEvent, e producerEvent) error {
	doc := map[string]any{
		"level":     w.Level,
		"message":   e.Message,
		"resource":  e.Resource,
		"source":    e.Source,
		"timestamp": e.Timestamp,
		"type":      e.Type,
	}
	if len(e.Details) > 0 {
		var details any
		if err := json.Unmarshal(e.Details, &details); err != nil {
			return fmt.Errorf("decode details: %w", err)
		}
		doc["details"] = details
	}
	return printYAML(cmd, doc)
}
