package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newHealthCommand checks a server's health endpoints, for container health checks (the
// image has no curl).
func newHealthCommand() *cobra.Command {
	var base string
	var live bool
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Check that a herald server is ready (or, with --live, alive)",
		Long: `Ask a herald server whether it is ready (GET /readyz: its views have caught up with the
log and, when enabled, its Kafka ingester consumes) or, with --live, merely alive (GET
/healthz). Exits 0 when it is, 1 when it is not, printing the server's answer; meant for
container health checks.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path := "/readyz"
			if live {
				path = "/healthz"
			}
			url := strings.TrimRight(base, "/") + path
			client := &http.Client{Timeout: 5 * time.Second}
			resp, err := client.Get(url)
			if err != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "herald at %s does not answer: %v\n", base, err)
				return exitError{code: 1}
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			fmt.Fprintln(cmd.OutOrStdout(), strings.TrimSpace(string(body)))
			if resp.StatusCode != http.StatusOK {
				fmt.Fprintf(cmd.ErrOrStderr(), "herald at %s is not %s: %s\n", base, map[bool]string{true: "alive", false: "ready"}[live], resp.Status)
				return exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&base, "url", "http://localhost:8228", "base URL of the herald server")
	cmd.Flags().BoolVar(&live, "live", false, "only check that the server answers (/healthz), not that it caught up")
	return cmd
}
