// Command herald is the event log and notification router: `herald serve` runs the server,
// the other commands talk to a running server.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	ctx, stop, received := signalContext()
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	if err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		fmt.Fprintln(os.Stderr, "herald:", printableText(err.Error()))
		os.Exit(failureCode(received()))
	}
}

// signalContext returns a context that an interrupt (Ctrl-C) or SIGTERM ends, a function that
// stops watching for them, and one that tells which of them came first, if one did.
func signalContext() (context.Context, func(), func() os.Signal) {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	var first atomic.Value
	done := make(chan struct{})
	go func() {
		select {
		case s := <-signals:
			first.Store(s)
			cancel()
		case <-done:
		}
	}()
	stop := func() {
		signal.Stop(signals)
		close(done)
		cancel()
	}
	received := func() os.Signal {
		s, _ := first.Load().(os.Signal)
		return s
	}
	return ctx, stop, received
}

// failureCode is the exit status of a command that failed: 1, or, when an interrupt or
// SIGTERM cut it short, 128 and the signal's number, as a shell reports a command a signal
// ended (130 for Ctrl-C), so that a script can tell a stop it asked for from a failure.
func failureCode(received os.Signal) int {
	if s, ok := received.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// exitError ends the process with a code without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "herald",
		Short: "Event log and notification router for platform events",
		Long: `herald keeps an event log of what platform services report (image analysis results,
policy and vulnerability changes, feed syncs, service faults), serves it through a GraphQL API,
and keeps each account's notification endpoint configurations (Email, GitHub, Jira, Slack,
Microsoft Teams, webhooks) with the selectors that choose which events they receive.

Run a server with 'herald serve'; the other commands talk to a running server, found at
--url or $HERALD_URL (default http://localhost:8228).

Every flag can also be set with an environment variable: HERALD_ and the flag's name in
upper case with dashes as underscores (--data-dir is HERALD_DATA_DIR).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), newEventCommand(), newNotificationsCommand(), newAccountCommand(), newProjectionsCommand(), newHealthCommand(), newVersionCommand())
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return bindEnv(cmd) }
	root.SetFlagErrorFunc(explainFlagValue)
	refuseUnknownSubcommands(root)
	explainArgs(root)
	noteFlagSources(root)
	return root
}

// explainArgs makes a command given the wrong number of arguments say which command it was
// and how it is used, after cobra's count ("accepts 1 arg(s), received 0").
func explainArgs(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		explainArgs(c)
	}
	if (cmd.HasSubCommands() && !cmd.Runnable()) || cmd.Args == nil { // backfill runs, and has status and cancel
		return
	}
	check := cmd.Args
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		err := check(cmd, args)
		if err == nil {
			return nil
		}
		msg := err.Error()
		if strings.HasPrefix(msg, "unknown command") { // cobra.NoArgs's words
			msg = fmt.Sprintf("takes no arguments, received %q", strings.Join(args, " "))
		}
		path := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
		return fmt.Errorf("%s: %s; usage: %s", path, msg, cmd.UseLine())
	}
}

// refuseUnknownSubcommands makes every group of commands below the root (herald event,
// herald notifications endpoint, ...) fail on a word that is not one of its commands. Cobra
// checks that at the root only; below it, `herald notifications endpoint disabl slack` would
// print help and exit 0, and a script would believe Slack was disabled. A group given no
// word still prints its help.
func refuseUnknownSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		refuseUnknownSubcommands(c)
	}
	if !cmd.HasParent() || !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.SuggestionsMinimumDistance = 2 // as cobra's own at the root
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return fmt.Errorf("%s (see '%s --help')", msg, cmd.CommandPath())
	}
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print herald's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "herald", version)
		},
	}
}
