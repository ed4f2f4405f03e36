package main

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"herald/domain"
)

// eventFlags are the filters shared by `event list` and `event delete`.
type eventFlags struct {
	since, before, level, service, host, typ, resourceType, account, resource string
}

func (f *eventFlags) add(cmd *cobra.Command, withResource bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.since, "since", "", "only events that occurred at or after this RFC 3339 UTC timestamp")
	fl.StringVar(&f.before, "before", "", "only events that occurred before this RFC 3339 UTC timestamp")
	fl.StringVar(&f.level, "level", "", "only events of this level: info or error")
	fl.StringVar(&f.service, "service", "", "only events from this service (source servicename)")
	fl.StringVar(&f.host, "host", "", "only events from this host (source hostid)")
	fl.StringVar(&f.typ, "type", "", "only events of this type, exact or a prefix pattern such as system.feeds.* (any case)")
	fl.StringVar(&f.resourceType, "resource-type", "", "only events about this kind of resource, such as image_tag")
	fl.StringVar(&f.account, "account", "", "only events of this account (admin only)")
	if withResource {
		fl.StringVar(&f.resource, "resource", "", "only events about this resource (its id, exactly): a tag, image digest or repository name")
	}
}

// filter turns the flags into the GraphQL EventFilter, checking values before the round trip.
func (f *eventFlags) filter() (map[string]any, error) {
	out := map[string]any{}
	if err := timeVars(out, f.since, f.before); err != nil {
		return nil, err
	}
	if f.level != "" {
		l, ok := domain.ParseLevel(f.level)
		if !ok {
			return nil, fmt.Errorf("--level %q: supported levels are info and error", f.level)
		}
		out["level"] = l.Upper()
	}
	f.typ = strings.ToLower(f.typ) // types are recorded in lower case
	if f.typ != "" && !domain.ValidTypePattern(f.typ) {
		return nil, fmt.Errorf("--type %q: want an event type such as system.repository.list_tags_fail or a prefix pattern such as system.feeds.*", f.typ)
	}
	if f.resourceType != "" && !domain.IsResourceType(f.resourceType) {
		return nil, fmt.Errorf("--resource-type %q: use one of %s", f.resourceType, strings.Join(domain.ResourceTypes(), ", "))
	}
	for key, v := range map[string]string{"service": f.service, "host": f.host, "type": f.typ, "resourceType": f.resourceType, "account": f.account, "resource": f.resource} {
		if v != "" {
			out[key] = v
		}
	}
	return out, nil
}

func newEventCommand() *cobra.Command {
	var url clientConfig
	cmd := &cobra.Command{
		Use:   "event",
		Short: "List, get, delete and send events of the log, and list their types",
		Long: `List, get, delete and send events of a herald server's event log.

Events are listed newest first. 'event list' shows the first 100 events that match its
filters; --all shows every one. 'event types' lists the types events have. 'event send'
records events from a file, or produces them to Kafka, for testing a setup.`,
	}
	addClientFlags(cmd, &url)
	cmd.AddCommand(newEventListCommand(&url), newEventGetCommand(&url), newEventDeleteCommand(&url), newEventSendCommand(&url), newEventTypesCommand(&url))
	return cmd
}

// confirm asks a yes/no question on the command's streams; anything but y or yes is no.
func confirm(cmd *cobra.Command, question string) bool {
	fmt.Fprintf(cmd.OutOrStdout(), "%s (y/N) ", question)
	line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// timeVars reads --since and --before into the GraphQL variables since and before.
func timeVars(vars map[string]any, since, before string) error {
	var at [2]time.Time
	for i, t := range []struct{ flag, value string }{{"since", since}, {"before", before}} {
		if t.value == "" {
			continue
		}
		ts, err := domain.ParseTimestamp(t.value)
		if err != nil {
			return fmt.Errorf("--%s %q: not an RFC 3339 timestamp such as 2018-06-28T22:36:26.512589Z", t.flag, t.value)
		}
		if err := domain.CheckEarliest(ts); err != nil {
			return fmt.Errorf("--%s: %w", t.flag, err)
		}
		vars[t.flag] = domain.FormatTimestamp(ts)
		at[i] = ts
	}
	if since != "" && before != "" && !at[0].Before(at[1]) {
		return fmt.Errorf("--before %s is not after --since %s: the window holds nothing", before, since)
	}
	return nil
}

// timeFlags names --since and --before in a server's refusal of their values, which names
// the GraphQL arguments: "since: ... lies in the future" becomes "--since: ...".
func timeFlags(err error) error {
	return fieldsAsFlags(err, func(field string) string {
		switch strings.TrimPrefix(field, "filter.") {
		case "since":
			return "--since"
		case "before":
			return "--before"
		}
		return ""
	})
}
