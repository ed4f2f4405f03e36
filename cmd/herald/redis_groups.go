package main

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	goredis "github.com/redis/go-redis/v9"
)

// consumerGroups puts back the router's consumer groups when Redis has lost them: its data
// was flushed, or it restarted without persistence. Watermill creates a stream's group only
// when it subscribes; without this, every read failed with NOGROUP until herald restarted,
// and nothing was sent.
type consumerGroups struct {
	client *goredis.Client
	group  string
	log    *slog.Logger

	mu         sync.Mutex
	streams    []string  // subscribed to, with the prefix
	restoredAt time.Time // the last look, to look once for all subscriptions failing at once
	onLost     func()    // told once per loss (Dispatcher.RedeliverLost); nil until wired
	toldAt     time.Time
}

// whenLost sets what to do once the groups were found lost: every instance sees the loss,
// and the one that dispatches publishes again what Redis held.
func (g *consumerGroups) whenLost(f func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.onLost = f
}

// subscribed notes a stream the router reads.
func (g *consumerGroups) subscribed(stream string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.streams = append(g.streams, stream)
}

// readFailed is the subscriber's ShouldStopOnReadErrors: it never stops the reads, which
// watermill retries every half second, but restores the groups when a read says one is gone.
func (g *consumerGroups) readFailed(err error) bool {
	if lost, sure := groupLost(err); lost {
		g.restore(sure)
	}
	return false
}

// restore creates the group of every subscribed stream that lacks one, reading from the
// stream's start: what was published since the loss is in the new stream. When a group was
// gone (this instance's reads said so, or it created one), onLost is told, so that the
// notifications Redis held are published again.
func (g *consumerGroups) restore(gone bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if time.Since(g.restoredAt) < time.Second {
		return
	}
	g.restoredAt = time.Now()
	created := 0
	for _, stream := range g.streams {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := g.client.XGroupCreateMkStream(ctx, stream, g.group, "0").Err()
		cancel()
		switch {
		case err == nil:
			created++
		case strings.HasPrefix(err.Error(), "BUSYGROUP"):
		case strings.HasPrefix(err.Error(), "READONLY"):
			// A failover under way: the server herald reads from has just become a replica
			// (its reads end UNBLOCKED), and the groups are the new primary's to keep.
			g.log.Info("Redis is a read-only replica here, a failover under way: herald looks at the notification streams' consumer groups again on the next failed read",
				"stream", stream, "group", g.group)
			return
		default:
			g.log.Warn("could not recreate a notification stream's consumer group in Redis; herald tries again in a second",
				"stream", stream, "group", g.group, "error", err)
			return
		}
	}
	if created > 0 {
		g.log.Warn("Redis had lost the notification streams' consumer groups (its data was flushed, or it restarted without persistence): herald recreated them. "+
			"The notifications that were waiting in Redis are published again, and the ledger keeps any already delivered from being sent twice",
			"groups", created)
	}
	// One loss makes every subscription fail within half a second, and reads that fail again
	// before the groups are back would tell it again: the notifications published again in
	// between would be published a third time.
	if (gone || created > 0) && g.onLost != nil && time.Since(g.toldAt) > lostQuiet {
		g.toldAt = time.Now()
		g.onLost()
	}
}

// lostQuiet is how long after telling a loss another is not told.
const lostQuiet = 30 * time.Second

// groupLost tells the errors of reading a stream whose group may be gone, which
// consumerGroups deals with; sure when it is: NOGROUP, or a read that was waiting when the
// stream was deleted. Another UNBLOCKED (CLIENT UNBLOCK, a failover) is worth a look.
func groupLost(err error) (lost, sure bool) {
	switch {
	case err == nil:
		return false, false
	case strings.HasPrefix(err.Error(), "NOGROUP"), strings.HasPrefix(err.Error(), "UNBLOCKED the stream key no longer exists"):
		return true, true
	}
	return strings.HasPrefix(err.Error(), "UNBLOCKED"), false
}

// noGroupQuiet logs at debug level the subscriber's errors that say a consumer group is
// gone: consumerGroups restores them and says so once, where watermill would log each read
// of each stream twice a second.
type noGroupQuiet struct{ watermill.LoggerAdapter }

func (q noGroupQuiet) Error(msg string, err error, fields watermill.LogFields) {
	if lost, _ := groupLost(err); lost {
		q.Debug(msg, fields.Add(watermill.LogFields{"error": err}))
		return
	}
	q.LoggerAdapter.Error(msg, err, fields)
}

func (q noGroupQuiet) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return noGroupQuiet{q.LoggerAdapter.With(fields)}
}
