package notify

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill"
)

// WatermillLogger adapts l for watermill, whose info lines (a subscriber started, a handler
// stopped) are herald's debug lines. Watermill writes trace and debug lines for every
// message; they are dropped before their fields are turned into attributes when l does not
// log that level, which is most of the time.
func WatermillLogger(l *slog.Logger) watermill.LoggerAdapter {
	return quietLogger{
		LoggerAdapter: watermill.NewSlogLoggerWithLevelMapping(l, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}),
		slog:          l,
	}
}

type quietLogger struct {
	watermill.LoggerAdapter
	slog *slog.Logger
}

// Error logs a handler's error, but one that only says herald is stopping, or one of herald's
// own side that pauseOnTransient has told already, at debug level: watermill calls every
// error a handler returns an error.
func (q quietLogger) Error(msg string, err error, fields watermill.LogFields) {
	if errors.Is(err, errStopping) || errors.Is(err, errTransient) {
		q.Debug(msg, fields.Add(watermill.LogFields{"error": err}))
		return
	}
	q.LoggerAdapter.Error(msg, err, fields)
}

func (q quietLogger) Info(msg string, fields watermill.LogFields) {
	if q.slog.Enabled(context.Background(), slog.LevelDebug) {
		q.LoggerAdapter.Info(msg, fields)
	}
}

func (q quietLogger) Debug(msg string, fields watermill.LogFields) {
	if q.slog.Enabled(context.Background(), slog.LevelDebug) {
		q.LoggerAdapter.Debug(msg, fields)
	}
}

func (q quietLogger) Trace(msg string, fields watermill.LogFields) {
	if q.slog.Enabled(context.Background(), watermill.LevelTrace) {
		q.LoggerAdapter.Trace(msg, fields)
	}
}

func (q quietLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	// fields do not change which levels are enabled
	return quietLogger{LoggerAdapter: q.LoggerAdapter.With(fields), slog: q.slog}
}
