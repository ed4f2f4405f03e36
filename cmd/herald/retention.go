package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"herald/commands"
)

// retention is the --retention flag: a Go duration, or a number of days ("90d").
type retention time.Duration

func (r *retention) String() string {
	d := time.Duration(*r)
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}

func (r *retention) Set(s string) error {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return fmt.Errorf("want a number of days such as 90d, or a duration such as 720h")
		}
		*r = retention(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("want a number of days such as 90d, or a duration such as 720h")
	}
	*r = retention(d)
	return nil
}

func (r *retention) Type() string { return "duration" }

// resumePurges finishes, once at start, the purges of bulk clears an earlier run left unfinished.
func resumePurges(ctx context.Context, h commands.ResumePurgesHandler, logger *slog.Logger) {
	res, err := h.Handle(ctx, commands.ResumePurges{})
	switch {
	case err != nil && ctx.Err() == nil:
		logger.Error("finish the purges of earlier clears; the cleared events stay hidden and their payloads stay in the store until the next start",
			"error", err)
	case res != commands.ResumePurgesResult{}:
		logger.Info("finished the purges of earlier clears", "purges", res.Finished, "deleted", res.Deleted,
			"dropped", res.Dropped, "left_for_later", res.Left)
	}
}

// runRetention clears expired events now and then, until ctx is done.
func runRetention(ctx context.Context, h commands.ApplyRetentionHandler, maxAge time.Duration, logger *slog.Logger) {
	interval := min(max(maxAge/24, time.Minute), time.Hour)
	for {
		n, err := h.Handle(ctx, commands.ApplyRetention{MaxAge: maxAge})
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("apply retention", "error", err)
		case n > 0:
			logger.Info("cleared expired events", "count", n, "older_than", time.Now().Add(-maxAge).UTC().Format(time.RFC3339))
		}
		select {
		case <-time.After(interval):
		case <-ctx.Done():
			return
		}
	}
}
