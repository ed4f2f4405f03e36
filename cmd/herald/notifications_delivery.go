package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"herald/domain"
	"herald/projections"
)

type wireTestResult struct {
	Delivered      bool    `json:"delivered"`
	ReceiverStatus *int    `json:"receiverStatus"`
	Retryable      bool    `json:"retryable"`
	Error          *string `json:"error"`
	Response       *string `json:"response"`
	LatencyMs      float64 `json:"latencyMs"`
}

func newConfigTestCommand(url *clientConfig) *cobra.Command {
	var f configFlags
	var kind string
	cmd := &cobra.Command{
		Use:   "test [ID]",
		Short: "Send a test notification through a configuration and show what the receiver answered",
		Long: `Send a test notification now, through a saved configuration (ID), or through settings
not saved yet (--kind with --set, as for 'config add'). It works while the endpoint kind is
disabled and is not recorded in the delivery history. The exit status is 1 when the
receiver did not accept it.`,
		Example: `  herald notifications config test 4f6c…
  herald notifications config test --kind webhook --set url=https://hooks.example.com/herald`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vars := map[string]any{}
			switch {
			case len(args) == 1 && kind != "":
				return fmt.Errorf("give either the ID of a saved configuration or --kind with --set, not both")
			case len(args) == 1:
				var changed []string
				for _, name := range []string{"set", "no-verify-tls", "title-template", "body-template"} {
					if cmd.Flags().Changed(name) {
						changed = append(changed, "--"+name)
					}
				}
				if len(changed) > 0 {
					return fmt.Errorf("%s: a test through a saved configuration (ID) uses its saved settings; to try other settings, give --kind with --set instead of the ID, or change the configuration first (herald notifications config edit %s)",
						strings.Join(changed, ", "), args[0])
				}
				vars["id"] = args[0]
			case kind == "":
				return fmt.Errorf("give the ID of a saved configuration, or --kind with --set for unsaved settings")
			default:
				k, err := domain.ParseEndpointKind(kind)
				if err != nil {
					return fmt.Errorf("--kind %q: use one of email, github, jira, slack, teams, webhook", kind)
				}
				// What a test sends does not depend on the name or the selectors; the input wants them.
				f.name, f.quick = "test", []string{"all"}
				in, err := f.input(cmd, k, nil)
				if err != nil {
					return err
				}
				vars["kind"], vars["input"] = strings.ToUpper(string(k)), in
			}
			var data struct {
				Result wireTestResult `json:"testNotificationEndpointConfiguration"`
			}
			q := `mutation($id: ID, $kind: EndpointKind, $input: ConfigurationInput) { testNotificationEndpointConfiguration(id: $id, kind: $kind, input: $input) { delivered receiverStatus retryable error response latencyMs } }`
			if err := newClient(url).do(cmd.Context(), q, vars, &data); err != nil {
				if k, ok := vars["kind"].(string); ok {
					return asFlags(err, domain.EndpointKind(strings.ToLower(k)))
				}
				return err
			}
			r := data.Result
			out := cmd.OutOrStdout()
			status := "no answer"
			if r.ReceiverStatus != nil {
				status = fmt.Sprint(*r.ReceiverStatus)
			}
			if r.Delivered {
				fmt.Fprintf(out, "Delivered: the receiver answered %s in %.1f ms\n", status, r.LatencyMs)
				return nil
			}
			fmt.Fprintf(out, "Not delivered (receiver status: %s, after %.1f ms)\n", status, r.LatencyMs)
			if r.Error != nil {
				fmt.Fprintf(out, "Error: %s\n", printable(*r.Error))
			}
			if r.Retryable {
				fmt.Fprintln(out, "Herald would retry this failure when delivering events.")
			}
			return exitError{code: 1}
		},
	}
	f.addDelivery(cmd)
	cmd.Flags().StringVar(&kind, "kind", "", "endpoint kind of unsaved settings: email, github, jira, slack, teams, webhook")
	return cmd
}

type wireDelivery struct {
	EventID         string  `json:"eventId"`
	ConfigurationID string  `json:"configurationId"`
	Kind            string  `json:"kind"`
	EventType       string  `json:"eventType"`
	Status          string  `json:"status"`
	ReceiverStatus  *int    `json:"receiverStatus"`
	Attempts        int     `json:"attempts"`
	LatencyMs       float64 `json:"latencyMs"`
	Error           *string `json:"error"`
	Trigger         string  `json:"trigger"`
	At              string  `json:"at"`
}

func newDeliveriesCommand(url *clientConfig) *cobra.Command {
	var config, event, status, since, before, output string
	var limit int
	cmd := &cobra.Command{
		Use:   "deliveries",
		Short: "Show the delivery history: which notification went where, and how it ended",
		Args:  cobra.NoArgs,
		Example: `  herald notifications deliveries --status failed
  herald notifications deliveries --config 4f6c… --since 2026-11-01T00:00:00Z`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > projections.MaxDeliveryPage {
				return fmt.Errorf("--limit is %d: it must lie between 1 and %d", limit, projections.MaxDeliveryPage)
			}
			vars := map[string]any{"first": limit}
			if config != "" {
				vars["config"] = config
			}
			if event != "" {
				vars["event"] = event
			}
			switch strings.ToLower(status) {
			case "":
			case "delivered", "failed":
				vars["status"] = strings.ToUpper(status)
			default:
				return fmt.Errorf("--status %q: use delivered or failed", status)
			}
			if err := timeVars(vars, since, before); err != nil {
				return err
			}
			var data struct {
				Page struct {
					Deliveries []wireDelivery `json:"deliveries"`
					Next       *string        `json:"next"`
					TotalCount int            `json:"totalCount"`
				} `json:"notificationDeliveries"`
			}
			q := `query($config: ID, $event: ID, $status: DeliveryStatus, $since: Timestamp, $before: Timestamp, $first: Int) {
  notificationDeliveries(configurationId: $config, eventId: $event, status: $status, since: $since, before: $before, first: $first) {
    deliveries { eventId configurationId kind eventType status receiverStatus attempts latencyMs error trigger at } next totalCount } }`
			if err := newClient(url).do(cmd.Context(), q, vars, &data); err != nil {
				return timeFlags(err)
			}
			var err error
			if output == "json" {
				err = printJSON(cmd, data.Page.Deliveries)
			} else {
				err = printDeliveries(cmd.OutOrStdout(), data.Page.Deliveries)
			}
			if data.Page.Next != nil { // on stderr, so that stdout stays what -o asked for
				fmt.Fprintf(cmd.ErrOrStderr(), "Showing the newest %d of %d matching deliveries: narrow the filter or raise --limit (at most 1000)\n", len(data.Page.Deliveries), data.Page.TotalCount)
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&config, "config", "", "only deliveries of this configuration")
	fl.StringVar(&event, "event", "", "only deliveries of this event")
	fl.StringVar(&status, "status", "", "delivered or failed")
	fl.StringVar(&since, "since", "", "only outcomes at or after this RFC 3339 timestamp")
	fl.StringVar(&before, "before", "", "only outcomes before this RFC 3339 timestamp")
	fl.IntVar(&limit, "limit", 100, "how many to show, newest first (at most 1000)")
	addOutputFlag(cmd, &output, "table", "table", "json")
	return cmd
}

// printDeliveries prints the delivery history as a table.
func printDeliveries(w io.Writer, deliveries []wireDelivery) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "At\tStatus\tKind\tEvent\tConfiguration\tAttempts\tReceiver\tLatency\tDetail")
	for _, d := range deliveries {
		receiver := "-"
		if d.ReceiverStatus != nil {
			receiver = fmt.Sprint(*d.ReceiverStatus)
		}
		detail := d.Trigger
		if d.Error != nil {
			detail = *d.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%.1fms\t%s\n", d.At, strings.ToLower(d.Status), strings.ToLower(d.Kind), d.EventID, d.ConfigurationID, d.Attempts, receiver, d.LatencyMs, printable(detail))
	}
	return tw.Flush()
}

type wireBackfill struct {
	ID        string  `json:"id"`
	State     string  `json:"state"`
	Total     int     `json:"total"`
	Scanned   int     `json:"scanned"`
	Matched   int     `json:"matched"`
	Skipped   int     `json:"skipped"`
	Published int     `json:"published"`
	Delivered int     `json:"delivered"`
	Failed    int     `json:"failed"`
	Error     *string `json:"error"`
}

const backfillFields = `id state total scanned matched skipped published delivered failed error`

func newBackfillCommand(url *clientConfig) *cobra.Command {
	var since, before string
	var detach bool
	cmd := &cobra.Command{
		Use:   "backfill CONFIGURATION-ID",
		Short: "Send a window of history through one configuration (what was delivered is skipped)",
		Long: `Replay the events recorded between --since (default: the beginning) and --before (default:
now) through one configuration: each event its selectors choose and the delivery ledger does
not show as delivered to it is sent, with retries, as if it had just been recorded. Shows a
progress bar until every notification has an outcome.`,
		Example: `  herald notifications backfill 4f6c… --since 2026-11-01T00:00:00Z`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vars := map[string]any{"id": args[0]}
			if err := timeVars(vars, since, before); err != nil {
				return err
			}
			var started struct {
				Job wireBackfill `json:"backfillNotifications"`
			}
			q := `mutation($id: ID!, $since: Timestamp, $before: Timestamp) { backfillNotifications(configurationId: $id, since: $since, before: $before) { ` + backfillFields + ` } }`
			if err := newClient(url).do(cmd.Context(), q, vars, &started); err != nil {
				return timeFlags(err)
			}
			if detach {
				fmt.Fprintf(cmd.OutOrStdout(), "Backfill %s started; follow it with: herald notifications backfill status %s --follow\n", started.Job.ID, started.Job.ID)
				return nil
			}
			return followBackfill(cmd, url, started.Job.ID)
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "first instant of the window (RFC 3339), inclusive")
	cmd.Flags().StringVar(&before, "before", "", "end of the window (RFC 3339), exclusive; default now")
	cmd.Flags().BoolVar(&detach, "detach", false, "start the backfill and return without waiting")
	cmd.AddCommand(newBackfillStatusCommand(url), newBackfillCancelCommand(url), newBackfillListCommand(url))
	return cmd
}

// backfillJob reads a backfill; nil when the server knows no backfill of that id.
func backfillJob(cmd *cobra.Command, url *clientConfig, id string) (*wireBackfill, error) {
	var data struct {
		Job *wireBackfill `json:"backfillJob"`
	}
	if err := newClient(url).do(cmd.Context(), `query($id: ID!) { backfillJob(id: $id) { `+backfillFields+` } }`, map[string]any{"id": id}, &data); err != nil {
		return nil, err
	}
	return data.Job, nil
}

// noBackfill is the error for an id the server does not know.
func noBackfill(id string) error {
	return fmt.Errorf("no backfill %s: check the id (backfillNotifications and herald notifications backfill print it when they start); a backfill that ended more than 7 days ago is deleted by the next backfill of its configuration", id)
}

// followBackfill draws a backfill's progress until it ends, then prints its outcome.
func followBackfill(cmd *cobra.Command, url *clientConfig, id string) error {
	start := time.Now()
	progress := newProgressLine(cmd.ErrOrStderr())
	for {
		j, err := backfillJob(cmd, url, id)
		if err != nil {
			return err
		}
		if j == nil {
			return noBackfill(id)
		}
		renderBackfill(progress, *j, time.Since(start))
		if j.State != "RUNNING" {
			printBackfillOutcome(cmd, *j)
			if j.Error != nil {
				return fmt.Errorf("backfill %s: %s", j.ID, *j.Error)
			}
			if j.Failed > 0 {
				return exitError{code: 1}
			}
			return nil
		}
		if !watchPause(cmd, "backfill") {
			fmt.Fprintf(cmd.ErrOrStderr(), "Stop it with: herald notifications backfill cancel %s\n", id)
			return nil
		}
	}
}

func printBackfillOutcome(cmd *cobra.Command, j wireBackfill) {
	fmt.Fprintf(cmd.OutOrStdout(), "Backfill %s %s: %d of %d events scanned, %d matched, %d already delivered, %d sent, %d delivered, %d failed\n",
		j.ID, strings.ToLower(j.State), j.Scanned, j.Total, j.Matched, j.Skipped, j.Published, j.Delivered, j.Failed)
}

func newBackfillStatusCommand(url *clientConfig) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "status BACKFILL-ID",
		Short: "Show a backfill's progress, or follow it with a progress bar until it ends",
		Long: `Show where a backfill is: running, done, failed or canceled, with its counts. Any herald
instance answers, whichever runs the backfill. --follow draws a progress bar until it ends, as
herald notifications backfill does without --detach.`,
		Example: `  herald notifications backfill status bf-1f0c9a7d3e5b2a64 --follow`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if follow {
				return followBackfill(cmd, url, args[0])
			}
			j, err := backfillJob(cmd, url, args[0])
			if err != nil {
				return err
			}
			if j == nil {
				return noBackfill(args[0])
			}
			printBackfillOutcome(cmd, *j)
			if j.Error != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "Error: %s\n", printable(*j.Error))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&follow, "follow", false, "draw a progress bar until the backfill ends")
	return cmd
}

// listedBackfill is a backfill as the list shows it: its window and times besides its counts.
type listedBackfill struct {
	wireBackfill
	Since      *string `json:"since"`
	Before     string  `json:"before"`
	StartedAt  string  `json:"startedAt"`
	FinishedAt *string `json:"finishedAt"`
}

func newBackfillListCommand(url *clientConfig) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list CONFIGURATION-ID",
		Short: "List a configuration's backfills, newest first",
		Long: `List the backfills of one configuration, newest first: the running one, if any, and those
that ended in the last 7 days at least, whichever herald instance ran them.`,
		Example: `  herald notifications backfill list 4f6c…`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var data struct {
				Jobs []listedBackfill `json:"backfillJobs"`
			}
			q := `query($id: ID!) { backfillJobs(configurationId: $id) { ` + backfillFields + ` since before startedAt finishedAt } }`
			if err := newClient(url).do(cmd.Context(), q, map[string]any{"id": args[0]}, &data); err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd, data.Jobs)
			}
			if len(data.Jobs) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "No backfill of configuration %s in the last 7 days\n", args[0])
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "Backfill\tState\tStarted\tSince\tBefore\tScanned\tMatched\tSkipped\tSent\tDelivered\tFailed\tError")
			for _, j := range data.Jobs {
				since, errText := "(beginning)", "-"
				if j.Since != nil {
					since = *j.Since
				}
				if j.Error != nil {
					errText = printable(*j.Error)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%d\t%d\t%d\t%d\t%d\t%s\n", j.ID, strings.ToLower(j.State), j.StartedAt, since, j.Before,
					j.Scanned, j.Total, j.Matched, j.Skipped, j.Published, j.Delivered, j.Failed, errText)
			}
			return tw.Flush()
		},
	}
	addOutputFlag(cmd, &output, "table", "table", "json")
	return cmd
}

func newBackfillCancelCommand(url *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel BACKFILL-ID",
		Short: "Stop a running backfill (what it already sent is still delivered)",
		Long: `Stop a running backfill: it sends nothing more, and the notifications it already handed to
the router are still delivered. Waits until it has stopped, then prints where it stopped.`,
		Example: `  herald notifications backfill cancel bf-1f0c9a7d3e5b2a64`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var data struct {
				Job *wireBackfill `json:"cancelBackfill"`
			}
			q := `mutation($id: ID!) { cancelBackfill(id: $id) { ` + backfillFields + ` } }`
			if err := newClient(url).do(cmd.Context(), q, map[string]any{"id": args[0]}, &data); err != nil {
				return err
			}
			if data.Job == nil {
				return noBackfill(args[0])
			}
			printBackfillOutcome(cmd, *data.Job)
			return nil
		},
	}
}

// renderBackfill draws one progress line: events scanned, then outcomes of what was sent.
func renderBackfill(w *progressLine, j wireBackfill, took time.Duration) {
	done := j.Scanned + j.Delivered + j.Failed
	total := max(j.Total+j.Published, 1)
	frac := min(float64(done)/float64(total), 1)
	if j.State != "RUNNING" {
		frac = 1
	}
	rate := float64(j.Scanned) / max(took.Seconds(), 1e-3)
	w.draw(fmt.Sprintf("[%s] %3.0f%%  %d/%d events  %d sent  %d delivered  %d failed  %.0f events/s",
		progressBar(frac), frac*100, j.Scanned, j.Total, j.Published, j.Delivered, j.Failed, rate), j.State != "RUNNING")
}
