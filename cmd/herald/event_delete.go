package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

const (
	deleteOneMutation  = `mutation($id: ID!) { deleteEvent(id: $id) { id } }`
	deleteManyMutation = `mutation($filter: EventFilter) { deleteEvents(filter: $filter) { count } }`
)

func newEventDeleteCommand(url *clientConfig) *cobra.Command {
	var flags eventFlags
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete [ID]",
		Short: "Delete one event, or clear events in bulk",
		Long: `Delete the event ID, or, without ID, clear every event that matches the filters
(--since, --before, ...). With neither an ID nor a filter, every event you can see is
cleared (your account's; every account's for the admin account, unless --account names one),
after a confirmation (--yes skips it). Deleted events are gone for good.`,
		Example: `  herald event delete d77736ac78a043a9b84b3a1b8171aa44
  herald event delete --before 2018-06-30T03:56:27.711071Z
  herald event delete --yes`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := newClientWithin(url, clearTimeouts())
			filter, err := flags.filter()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				if len(filter) > 0 {
					return fmt.Errorf("give either an event ID or filters, not both")
				}
				if err := c.do(cmd.Context(), deleteOneMutation, map[string]any{"id": args[0]}, nil); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted event %s\n", args[0])
				return nil
			}
			if len(filter) == 0 && !yes && !confirm(cmd, "Really delete (clear) every event you can see?") {
				return fmt.Errorf("nothing deleted (pass --yes to skip the question)")
			}
			var data struct {
				DeleteEvents struct {
					Count int `json:"count"`
				} `json:"deleteEvents"`
			}
			err = withElapsed(cmd.ErrOrStderr(), "deleting events", func() error {
				return timeFlags(c.do(cmd.Context(), deleteManyMutation, map[string]any{"filter": filter}, &data))
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted %s\n", counted(data.DeleteEvents.Count, "event"))
			return nil
		},
	}
	flags.add(cmd, true)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation before clearing every event")
	return cmd
}

// clearTimeouts let the server work on a bulk clear as long as the client waits for any
// answer: it answers once the cleared events' streams are deleted, which can take minutes.
func clearTimeouts() clientTimeouts {
	t := defaultClientTimeouts()
	t.answer = t.overall
	return t
}
