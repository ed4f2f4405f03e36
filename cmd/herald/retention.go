package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"herald/commands"
	"herald/domain"
	"herald/projections"
)

// retention is the --retention flag: a Go duration, or a number of days ("90d").
type retention time.Duration

func (r *retention) String() string { return domain.FormatRetention(time.Duration(*r)) }

func (r *retention) Set(s string) error {
	d, err := domain.ParseRetention(s)
	if err != nil {
		return err
	}
	if d != 0 && d < commands.MinRetention { // 90s for 90d would clear the whole log within a minute
		return fmt.Errorf("is shorter than the shortest retention, %s, as for accounts: give days (90d) or hours (720h), or 0 to keep events forever", commands.MinRetention)
	}
	*r = retention(d)
	return nil
}

func (r *retention) Type() string { return "duration" }

// purgeHooks log how the purges after bulk clears go. slog loggers are safe for concurrent use,
// as the hooks must be.
func purgeHooks(logger *slog.Logger) commands.PurgeHooks {
	return commands.PurgeHooks{
		Progress: purgeProgress(logger),
		Unpurged: func(clearID string, err error) {
			logger.Warn("cleared events are hidden but some payloads stay in the store until herald's next start purges them",
				"clear_id", clearID, "error", err)
		},
		Unrecorded: func(clearID string, err error) {
			logger.Warn("the purge of cleared events is done but not recorded; herald's next start checks it again",
				"clear_id", clearID, "error", err)
		},
	}
}

// purgeProgress logs how far a purge is, for clears and for resumed purges alike.
func purgeProgress(logger *slog.Logger) commands.PurgeProgress {
	return func(done, total int, elapsed time.Duration) {
		logger.Info("purging cleared events", "done", done, "total", total, "elapsed", elapsed.Round(time.Second))
	}
}

// resumePurges finishes, once at start, the purges of bulk clears an earlier run left unfinished.
func resumePurges(ctx context.Context, h commands.ResumePurgesHandler, logger *slog.Logger) {
	res, err := h.Handle(ctx, commands.ResumePurges{
		Resuming: func(p domain.PurgeScheduled) {
			logger.Info("finishing the purge of a clear", "clear_id", p.ClearID, "account", p.Account, "up_to", p.UpTo)
		},
		Finding: func(clearID string, readTo, upTo uint64, found int) {
			logger.Info("finding the events of a clear", "clear_id", clearID, "read_to", readTo, "up_to", upTo, "found", found)
		},
		Progress: purgeProgress(logger),
	})
	switch {
	case err != nil && ctx.Err() == nil:
		logger.Error("finish the purges of earlier clears; the cleared events stay hidden and their payloads stay in the store until the next start",
			"error", err)
	case err != nil: // herald is stopping: what is left is finished at the next start
		logger.Info("stopped the purges of earlier clears; the next start finishes them", "purges", res.Finished, "deleted", res.Deleted,
			"dropped", res.Dropped)
	case res != commands.ResumePurgesResult{}:
		logger.Info("finished the purges of earlier clears", "purges", res.Finished, "deleted", res.Deleted,
			"dropped", res.Dropped, "left_for_later", res.Left)
	}
}

// wireRetention runs retention in the background, once the event-log and accounts views have
// caught up: it clears only what a caught-up view knows of, at the ages the accounts set.
func (a *app) wireRetention(cfg serveConfig, v views, el eventLogParts, now commands.Clock) error {
	expire, err := commands.NewApplyRetentionHandler(el.deleteMany, v.accounts, now)
	if err != nil {
		return err
	}
	var accounts *projections.Runner
	for _, r := range a.runners {
		if r.Name() == projections.AccountsViewName {
			accounts = r
		}
	}
	if accounts == nil {
		return errors.New("wire retention: no accounts view")
	}
	a.jobs = append(a.jobs, func(ctx context.Context) {
		for _, r := range []*projections.Runner{el.runner, accounts} {
			select {
			case <-r.CaughtUp():
			case <-ctx.Done():
				return
			}
		}
		runRetention(ctx, expire, time.Duration(cfg.Retention), cfg.retentionEvery, retentionCheck, a.logger)
	})
	if cfg.Retention > 0 {
		a.logger.Info("retention enabled", "max_age", cfg.Retention.String())
	}
	return nil
}

// retentionJob is what runRetention runs (commands.ApplyRetentionHandler).
type retentionJob interface {
	Handle(ctx context.Context, cmd commands.ApplyRetention) (commands.ApplyRetentionResult, error)
	Shortest(ctx context.Context, def time.Duration) (time.Duration, error)
}

// retentionCheck is how often runRetention looks at the accounts' retention.
const retentionCheck = time.Minute

// runRetention clears expired events now and then, until ctx is done: every 1% of the
// shortest retention in force (between a minute and a day). It looks at the retentions every
// check, and runs at once when the shortest one changed, so that an account's new retention
// is taken up within a check. every, when set, runs it that often instead (tests).
func runRetention(ctx context.Context, job retentionJob, defaultAge, every, check time.Duration, logger *slog.Logger) {
	var last time.Time
	ran := time.Duration(-1) // the shortest retention when it last ran
	for {
		shortest, err := job.Shortest(ctx, defaultAge)
		if err != nil && ctx.Err() == nil {
			logger.Error("read the accounts' retention", "error", err)
		}
		interval := min(max(shortest/100, time.Minute), 24*time.Hour)
		if every > 0 {
			interval = every
		}
		if err == nil && shortest > 0 && (shortest != ran || time.Since(last) >= interval) {
			res, err := job.Handle(ctx, commands.ApplyRetention{Default: defaultAge})
			switch {
			case err != nil && ctx.Err() == nil:
				logger.Error("apply retention", "error", err)
			case res.Cleared > 0:
				logger.Info("cleared expired events", "count", res.Cleared)
			}
			last, ran = time.Now(), shortest
		}
		wait := check
		if every > 0 {
			wait = min(every, check)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return
		}
	}
}
