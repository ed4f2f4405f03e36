package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// wireEvent is an event as the API returns it.
type wireEvent struct {
	ID        string          `json:"id"`
	Timestamp string          `json:"timestamp"`
	Level     string          `json:"level"`
	Type      string          `json:"type"`
	Message   string          `json:"message"`
	Resource  wireResource    `json:"resource"`
	Source    wireSource      `json:"source"`
	Details   json.RawMessage `json:"details"`
}

type wireResource struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	UserID string `json:"userId"`
}

type wireSource struct {
	ServiceName string  `json:"serviceName"`
	HostID      string  `json:"hostId"`
	BaseURL     *string `json:"baseUrl"`
	RequestID   *string `json:"requestId"`
}

const eventFields = `id timestamp level type message resource { id type userId } source { serviceName hostId baseUrl requestId } details`

const listQuery = `query($filter: EventFilter, $first: Int, $after: String) {
  events(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { %s }
  }
}`

// summaryFields are what the tables show; the server answers them from its index alone.
const summaryFields = `id timestamp level type resource { id type userId } source { serviceName hostId }`

func newEventListCommand(url *clientConfig) *cobra.Command {
	var flags eventFlags
	var all bool
	var output string
	cmd := &cobra.Command{
		Use:   "list [RESOURCE]",
		Short: "List events, newest first",
		Long: `List events, newest first. RESOURCE, if given, is a tag, an image digest or a repository
name, and shows only the events about it: their resource id is RESOURCE exactly, so a
repository name shows the repository's own events (such as list_tags_fail), not those of its
tags. Without --all, only the first 100 matching events are shown. -o wide adds the account
and the resource of each event.`,
		Example: `  herald event list
  herald event list -o wide
  herald event list docker.io/library/nginx:latest
  herald event list --level error --since 2018-06-28T00:00:00Z
  herald event list --type 'system.feeds.*' --all -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				flags.resource = args[0]
			}
			filter, err := flags.filter()
			if err != nil {
				return err
			}
			fields := summaryFields
			if output == "json" {
				fields = eventFields
			}
			events, total, err := listEvents(cmd, newClient(url), filter, fields, all)
			if err != nil {
				return err
			}
			if output == "json" {
				err = printJSON(cmd, producerForm(events))
			} else {
				printTable(cmd.OutOrStdout(), events, output == "wide")
			}
			if !all && total > len(events) { // on stderr, so that stdout stays what -o asked for
				fmt.Fprintf(cmd.ErrOrStderr(), "Showing the first %d of %d events; use --all to show every one.\n", len(events), total)
			}
			return err
		},
	}
	flags.add(cmd, false)
	cmd.Flags().BoolVar(&all, "all", false, "show every matching event, not only the first 100")
	addOutputFlag(cmd, &output, "table", "table", "wide", "json")
	return cmd
}

// listEvents reads the first page, or every page with all.
func listEvents(cmd *cobra.Command, c *client, filter map[string]any, fields string, all bool) ([]wireEvent, int, error) {
	var events []wireEvent
	var after any
	first := 100
	if all {
		first = 1000
	}
	for {
		var data struct {
			Events struct {
				TotalCount int `json:"totalCount"`
				PageInfo   struct {
					HasNextPage bool   `json:"hasNextPage"`
					EndCursor   string `json:"endCursor"`
				} `json:"pageInfo"`
				Nodes []wireEvent `json:"nodes"`
			} `json:"events"`
		}
		vars := map[string]any{"filter": filter, "first": first, "after": after}
		if err := c.do(cmd.Context(), fmt.Sprintf(listQuery, fields), vars, &data); err != nil {
			return nil, 0, timeFlags(err)
		}
		events = append(events, data.Events.Nodes...)
		if !all || !data.Events.PageInfo.HasNextPage {
			return events, data.Events.TotalCount, nil
		}
		after = data.Events.PageInfo.EndCursor
	}
}

// printTable prints the columns of the engine's event list; wide adds the account and the
// resource (its type and id).
func printTable(w io.Writer, events []wireEvent, wide bool) {
	tw := tabwriter.NewWriter(w, 0, 8, 4, ' ', 0)
	header := "Timestamp\tLevel\tService\tHost\tEvent\tID"
	if wide {
		header += "\tAccount\tResource"
	}
	fmt.Fprintln(tw, header)
	for _, e := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s", e.Timestamp, e.Level, printable(e.Source.ServiceName), printable(e.Source.HostID), printable(e.Type), printable(e.ID))
		if wide {
			resource := printable(e.Resource.ID)
			if e.Resource.Type != "" {
				resource = printable(e.Resource.Type) + " " + resource
			}
			fmt.Fprintf(tw, "\t%s\t%s", printable(e.Resource.UserID), resource)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// producerEvent is the JSON form producers send, which -o json prints so that its output can
// be sent back to herald as it is.
type producerEvent struct {
	ID        string          `json:"id"`
	Timestamp string          `json:"timestamp"`
	Level     string          `json:"level"`
	Type      string          `json:"type"`
	Message   string          `json:"message"`
	Resource  map[string]any  `json:"resource"`
	Source    map[string]any  `json:"source"`
	Details   json.RawMessage `json:"details,omitempty"`
}

func producerForm(events []wireEvent) []producerEvent {
	out := make([]producerEvent, len(events))
	for i, e := range events {
		out[i] = producerEvent{
			ID: e.ID, Timestamp: e.Timestamp, Level: lower(e.Level), Type: e.Type, Message: e.Message,
			Resource: resourceMap(e.Resource), Source: sourceMap(e.Source), Details: e.Details,
		}
		if string(out[i].Details) == "null" {
			out[i].Details = nil
		}
	}
	return out
}

func resourceMap(r wireResource) map[string]any {
	return map[string]any{"id": r.ID, "type": r.Type, "user_id": r.UserID}
}

func sourceMap(s wireSource) map[string]any {
	m := map[string]any{"servicename": s.ServiceName, "hostid": s.HostID}
	if s.BaseURL != nil {
		m["base_url"] = *s.BaseURL
	}
	if s.RequestID != nil {
		m["request_id"] = *s.RequestID
	}
	return m
}

func lower(level string) string {
	switch level {
	case "INFO":
		return "info"
	case "ERROR":
		return "error"
	}
	return level
}
