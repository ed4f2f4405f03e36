package embedded

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble"
)

// health is what the store knows of its own state: a sticky failure, after which nothing more
// is written, and pebble's write stalls. It exists before pebble is opened, so that pebble's
// events can reach it from the start.
type health struct {
	log *slog.Logger

	mu          sync.Mutex
	failure     error
	broken      chan struct{} // closed at the failure
	stallSince  time.Time     // zero while writes flow
	stallReason string
}

// stallGrace is how long a write stall lasts before the store reports it: pebble stalls
// briefly under heavy writes while compactions catch up, and that is not a fault.
const stallGrace = 10 * time.Second

func newHealth(log *slog.Logger) *health {
	return &health{log: log, broken: make(chan struct{})}
}

// fail records the first failure and wakes everyone waiting on the store.
func (h *health) fail(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failure != nil {
		return
	}
	h.failure = err
	close(h.broken)
	h.log.Error("event store failed; reopen it to write again", "error", err)
}

func (h *health) failed() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failure
}

// report returns the failure, or a write stall that has lasted past stallGrace, or nil.
func (h *health) report(now time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.failure != nil:
		return h.failure
	case !h.stallSince.IsZero() && now.Sub(h.stallSince) >= stallGrace:
		return fmt.Errorf("writes stalled for %s: %s", now.Sub(h.stallSince).Round(time.Second), h.stallReason)
	}
	return nil
}

// listener returns the pebble events the store follows. A background error that says the disk
// is full or failing fails the store: pebble would retry its flushes forever while the
// memtables fill and every write waits, so callers would see only their own timeouts.
func (h *health) listener() *pebble.EventListener {
	return &pebble.EventListener{
		BackgroundError: func(err error) {
			if diskFault(err) {
				h.fail(fmt.Errorf("the disk is full or failing; free space or fix the disk, then restart herald: %w", err))
				return
			}
			h.log.Warn("pebble background error", "error", err)
		},
		DiskSlow: func(info pebble.DiskSlowInfo) {
			h.log.Warn("pebble disk slow", "path", info.Path, "duration", info.Duration)
		},
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
			h.mu.Lock()
			h.stallSince, h.stallReason = time.Now(), info.Reason
			h.mu.Unlock()
			h.log.Warn("event store writes stalled", "reason", info.Reason)
		},
		WriteStallEnd: func() {
			h.mu.Lock()
			h.stallSince, h.stallReason = time.Time{}, ""
			h.mu.Unlock()
			h.log.Info("event store writes flow again")
		},
	}
}

// diskFault tells whether err comes from a full, read-only or failing disk.
func diskFault(err error) bool {
	for _, errno := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, syscall.EROFS} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}
