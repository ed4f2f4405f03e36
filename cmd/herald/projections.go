package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"herald/projections"
)

type wireProjection struct {
	Name             string   `json:"name"`
	Position         int64    `json:"position"`
	Target           int64    `json:"target"`
	LogHead          int64    `json:"logHead"`
	Lag              int64    `json:"lag"`
	CaughtUp         bool     `json:"caughtUp"`
	Standby          bool     `json:"standby"`
	RecordsApplied   int64    `json:"recordsApplied"`
	RecordsPerSecond float64  `json:"recordsPerSecond"`
	EtaSeconds       *float64 `json:"etaSeconds"`
}

const projectionFields = `name position target logHead lag caughtUp standby recordsApplied recordsPerSecond etaSeconds`

// viewNames are the views a rebuild takes (--view), as the server names them.
func viewNames() []string {
	return []string{projections.EventLogViewName, projections.ConfigurationsViewName, projections.AccountsViewName, projections.DeliveriesViewName}
}

func newProjectionsCommand() *cobra.Command {
	var url clientConfig
	cmd := &cobra.Command{
		Use:   "projections",
		Short: "Show and rebuild the views of the log (admin only)",
		Long: `herald answers queries from views (projections) of its event log: ` + strings.Join(viewNames(), ", ") + `.
Every view can be thrown away and rebuilt from the log.`,
	}
	addClientFlags(cmd, &url)
	cmd.AddCommand(newProjectionsStatusCommand(&url), newProjectionsRebuildCommand(&url))
	return cmd
}

func fetchProjections(cmd *cobra.Command, url *clientConfig) ([]wireProjection, error) {
	var data struct {
		Projections []wireProjection `json:"projections"`
	}
	err := newClient(url).do(cmd.Context(), `query { projections { `+projectionFields+` } }`, nil, &data)
	return data.Projections, err
}

func newProjectionsStatusCommand(url *clientConfig) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each view's position, lag and state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := fetchProjections(cmd, url)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd, list)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 4, ' ', 0)
			fmt.Fprintln(tw, "View\tPosition\tLog head\tLag\tState")
			for _, p := range list {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", p.Name, p.Position, p.LogHead, p.Lag, projectionState(p))
			}
			return tw.Flush()
		},
	}
	addOutputFlag(cmd, &output, "table", "table", "json")
	return cmd
}

func projectionState(p wireProjection) string {
	switch {
	case p.Standby:
		return "standby (another instance applies it)"
	case p.CaughtUp:
		return "live"
	case p.EtaSeconds != nil:
		return fmt.Sprintf("catching up, %.0f records/s, ETA %s", p.RecordsPerSecond, (time.Duration(*p.EtaSeconds) * time.Second).String())
	}
	return "catching up"
}

func newProjectionsRebuildCommand(url *clientConfig) *cobra.Command {
	var view string
	var detach bool
	cmd := &cobra.Command{
		Use:   "rebuild",
		Short: "Drop views and rebuild them from the log, with a progress bar",
		Long: `Drop a view (--view NAME) or every view and rebuild it from the log, while herald keeps
serving. The rebuild runs in the server: interrupting this command does not stop it, and a
server restarted mid-rebuild resumes from the view's checkpoint. Without --detach the command
shows a progress bar until the views are live again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vars := map[string]any{}
			if view != "" {
				vars["name"] = view
			}
			var data struct {
				Rebuild []wireProjection `json:"rebuildProjection"`
			}
			q := `mutation($name: String) { rebuildProjection(name: $name) { ` + projectionFields + ` } }`
			if err := newClient(url).do(cmd.Context(), q, vars, &data); err != nil {
				return err
			}
			if detach {
				fmt.Fprintln(cmd.OutOrStdout(), "Rebuild started; follow it with 'herald projections status'")
				return nil
			}
			start := time.Now()
			progress := newProgressLine(cmd.ErrOrStderr())
			for {
				list, err := fetchProjections(cmd, url)
				if err != nil {
					return err
				}
				done := renderProgress(progress, list, view)
				if done {
					fmt.Fprintf(cmd.OutOrStdout(), "Rebuilt in %s\n", time.Since(start).Round(time.Millisecond))
					return nil
				}
				if !watchPause(cmd, "rebuild") {
					return nil
				}
			}
		},
	}
	cmd.Flags().StringVar(&view, "view", "", "the view to rebuild, by `NAME`: "+strings.Join(viewNames(), ", ")+"; default: every view")
	cmd.Flags().BoolVar(&detach, "detach", false, "start the rebuild and return without waiting")
	return cmd
}

// renderProgress draws one progress line and tells whether every watched view is live. The
// share done is reckoned in log positions, which are records only with the embedded store;
// the records and the rate are the ones the views counted; the ETA is the slowest view's.
func renderProgress(w *progressLine, list []wireProjection, view string) bool {
	var pos, target, records int64
	var rate, eta float64
	done := true
	for _, p := range list {
		if view != "" && p.Name != view {
			continue
		}
		pos += p.Position
		target += max(p.LogHead, 1)
		records += p.RecordsApplied
		rate += p.RecordsPerSecond
		if p.EtaSeconds != nil {
			eta = max(eta, *p.EtaSeconds)
		}
		done = done && p.CaughtUp
	}
	frac := float64(pos) / float64(max(target, 1))
	if done {
		frac = 1
	}
	left := "-"
	if eta > 0 && !done {
		left = (time.Duration(eta) * time.Second).Round(time.Second).String()
	}
	w.draw(fmt.Sprintf("[%s] %3.0f%%  %d records applied  %.0f records/s  ETA %s", progressBar(frac), frac*100, records, rate, left), done)
	return done
}

// progressLine shows a job's progress: on a terminal one line, redrawn in place; elsewhere (a
// file, a CI log) a line every progressEvery (as herald event send does), and the last one,
// so that the output stays readable.
type progressLine struct {
	w        io.Writer
	terminal bool
	last     time.Time
}

func newProgressLine(w io.Writer) *progressLine {
	return &progressLine{w: w, terminal: isTerminal(w)}
}

// draw shows text; final is the last state, drawn whatever the time since the previous line.
func (p *progressLine) draw(text string, final bool) {
	switch {
	case p.terminal:
		fmt.Fprint(p.w, "\r"+text+"   ")
		if final {
			fmt.Fprintln(p.w)
		}
	case final || time.Since(p.last) >= progressEvery:
		fmt.Fprintln(p.w, text)
		p.last = time.Now()
	}
}

// progressAfter is how long a request the server answers only once done may run before the
// command shows that it is still at work.
const progressAfter = 2 * time.Second

// withElapsed runs do, a request the server answers only once done, and while it runs longer
// than progressAfter shows "label… 4s" on w every progressEvery, so that it does not look hung.
func withElapsed(w io.Writer, label string, do func() error) error {
	return withElapsedEvery(w, label, progressAfter, progressEvery, do)
}

// withElapsedEvery is withElapsed with its delays.
func withElapsedEvery(w io.Writer, label string, after, every time.Duration, do func() error) error {
	done, shown := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(shown)
		start, line := time.Now(), newProgressLine(w)
		text := func() string { return fmt.Sprintf("%s… %s", label, time.Since(start).Round(time.Second)) }
		tick := time.NewTimer(after)
		defer tick.Stop()
		drawn := false
		for {
			select {
			case <-done:
				if drawn && line.terminal { // end the line, for the result to follow
					line.draw(text(), true)
				}
				return
			case <-tick.C:
				// Every tick is due: a terminal redraws one line, elsewhere each is a line.
				line.draw(text(), !line.terminal)
				drawn = true
				tick.Reset(every)
			}
		}
	}()
	err := do()
	close(done)
	<-shown
	return err
}

// progressBar draws frac (0 to 1) as a bar of 30 characters.
func progressBar(frac float64) string {
	const width = 30
	filled := int(frac * width)
	return strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
}

// watchPause waits before the next look at a job the server runs; false once the user stopped
// watching (Ctrl-C), after saying that the job goes on.
func watchPause(cmd *cobra.Command, job string) bool {
	select {
	case <-time.After(300 * time.Millisecond):
		return true
	case <-cmd.Context().Done():
		fmt.Fprintf(cmd.ErrOrStderr(), "\nStopped watching; the %s goes on in the server\n", job)
		return false
	}
}
