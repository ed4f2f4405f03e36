package standin

import (
	"github.com/google/uuid"
	api "github.com/kurrent-io/KurrentDB-Client-Go/protos/kurrentdb/protocols/v1/streams"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// A subscription reads history and live events alike from the one ordered log, a page at a
// time, and waits for the next write once it has read everything. History and live events
// therefore join without a gap or a duplicate, and the only difference between the two phases
// is what the client is told: CaughtUp when the end of the log is first reached.

// subscribeToAll serves a catch-up subscription to $all.
func (h *streamsService) subscribeToAll(opts *api.ReadReq_Options, filter *filterOptions, stream grpc.ServerStreamingServer[api.ReadResp]) error {
	sub := h.srv.subs.add()
	defer h.srv.subs.remove(sub)
	// The real server confirms before it reads anything, so a bad position fails afterwards.
	if err := stream.Send(confirmation()); err != nil {
		return err
	}
	start, err := h.srv.store.startAll(allFromOf(opts.GetAll()))
	if err != nil {
		return subscriptionInvalidPositionStatus()
	}
	a := &allSubscriber{
		store: h.srv.store, sub: sub, stream: stream, uuidAsString: uuidAsString(opts),
		next: start.next, seen: start.seen, hasSeen: start.hasSeen, skipCatchUp: start.live,
		sent: start.seen, hasSent: start.hasSeen,
	}
	if filter != nil {
		a.filter, a.window, a.checkpointInterval = filter.filter, filter.window, filter.checkpointInterval
	}
	return a.run()
}

// allSubscriber is the state of one subscription to $all.
type allSubscriber struct {
	store        *store
	sub          *subscription
	stream       grpc.ServerStreamingServer[api.ReadResp]
	uuidAsString bool

	filter             *eventFilter // nil: every event $all shows, and no checkpoints
	window             int
	checkpointInterval int

	next        int    // log index of the next record to consider
	seen        uint64 // position of the last record considered, or of the start
	hasSeen     bool
	sent        uint64 // position of the last event sent, or of the start
	hasSent     bool
	skipCatchUp bool // started at the end: no catch-up checkpoint
	live        bool
	considered  int // records considered since the last checkpoint
	checkpoint  uint64
	checkpoints int
}

func (a *allSubscriber) run() error {
	page := defaultReadBatchSize
	if a.filter != nil {
		page = a.window
	}
	for {
		batch, wake := a.store.recordsFrom(a.next, page)
		if len(batch) == 0 {
			if !a.live {
				if err := a.goLive(); err != nil {
					return err
				}
			}
			if err := waitForWrite(a.stream, a.sub, wake); err != nil {
				return err
			}
			continue
		}
		if err := a.consider(batch); err != nil {
			return err
		}
		if err := checkDropped(a.sub); err != nil {
			return err
		}
	}
}

// consider sends what passes the filter. Checkpoints count considered records, not sent
// ones: while catching up they fall at page ends, once live at the record that completes the
// interval, as on the real server.
func (a *allSubscriber) consider(batch []*record) error {
	for _, r := range batch {
		a.next++
		if a.hasSeen && r.pos <= a.seen {
			continue // at or before the start position
		}
		a.seen, a.hasSeen = r.pos, true
		a.considered++
		if a.filter.matches(r) {
			if err := a.stream.Send(eventResp(r, a.uuidAsString, true)); err != nil {
				return err
			}
			a.sent, a.hasSent = r.pos, true
		}
		if a.live && a.filter != nil && a.considered >= a.checkpointInterval {
			a.considered = 0
			if err := a.sendCheckpoint(r.pos); err != nil {
				return err
			}
		}
	}
	if !a.live && a.filter != nil && a.considered >= a.checkpointInterval {
		a.considered %= a.checkpointInterval
		return a.sendCheckpoint(a.seen)
	}
	return nil
}

// goLive ends the catch-up: a last checkpoint (for a filtered subscription that did catch up),
// then CaughtUp. Like the real server's, its position is the subscription's checkpoint: for a
// filtered subscription the last record considered, otherwise the last event sent (or the
// start position); none when there is neither.
func (a *allSubscriber) goLive() error {
	at, has := a.sent, a.hasSent
	if a.filter != nil {
		at, has = a.seen, a.hasSeen
	}
	if a.filter != nil && !a.skipCatchUp && has {
		if err := a.sendCheckpoint(at); err != nil {
			return err
		}
	}
	a.live, a.considered = true, 0
	cu := &api.ReadResp_CaughtUp{Timestamp: timestamppb.Now()}
	if has {
		cu.Position = &api.ReadResp_Position{CommitPosition: at, PreparePosition: at}
	}
	return a.stream.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: cu}})
}

// sendCheckpoint sends a checkpoint unless one at or after it was sent already; the real
// server skips those too.
func (a *allSubscriber) sendCheckpoint(pos uint64) error {
	if a.checkpoints > 0 && pos <= a.checkpoint {
		return nil
	}
	a.checkpoint = pos
	a.checkpoints++
	return a.stream.Send(&api.ReadResp{Content: &api.ReadResp_Checkpoint_{Checkpoint: &api.ReadResp_Checkpoint{
		CommitPosition: pos, PreparePosition: pos, Timestamp: timestamppb.Now(),
	}}})
}

// subscribeToStream serves a catch-up subscription to one stream: events after the given
// revision, CaughtUp with the last revision considered, then live events. A tombstone ends it
// with the stream-deleted error.
func (h *streamsService) subscribeToStream(opts *api.ReadReq_Options, stream grpc.ServerStreamingServer[api.ReadResp]) error {
	sub := h.srv.subs.add()
	defer h.srv.subs.remove(sub)
	if err := stream.Send(confirmation()); err != nil {
		return err
	}
	so := opts.GetStream()
	name := string(so.GetStreamIdentifier().GetStreamName())
	seen := int64(-1) // the last revision considered
	switch {
	case so.GetStart() != nil:
	case so.GetEnd() != nil:
		seen = h.srv.store.streamEnd(name)
	default:
		seen = int64(min(so.GetRevision(), deletedStream-1))
	}
	live := false
	for {
		batch, wake, err := h.srv.store.streamRecordsFrom(name, uint64(seen+1), defaultReadBatchSize)
		if err != nil {
			return storeError("Read", err)
		}
		if len(batch) == 0 {
			if !live {
				live = true
				if err := stream.Send(caughtUpStream(seen)); err != nil {
					return err
				}
			}
			if err := waitForWrite(stream, sub, wake); err != nil {
				return err
			}
			continue
		}
		for _, r := range batch {
			seen = int64(r.revision)
			if err := stream.Send(eventResp(r, uuidAsString(opts), false)); err != nil {
				return err
			}
		}
		if err := checkDropped(sub); err != nil {
			return err
		}
	}
}

func caughtUpStream(revision int64) *api.ReadResp {
	cu := &api.ReadResp_CaughtUp{Timestamp: timestamppb.Now()}
	if revision >= 0 {
		cu.StreamRevision = &revision
	}
	return &api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: cu}}
}

func confirmation() *api.ReadResp {
	return &api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{
		SubscriptionId: uuid.NewString(),
	}}}
}

// waitForWrite blocks until the next write, the client leaving, or the subscription being
// dropped.
func waitForWrite(stream grpc.ServerStream, sub *subscription, wake <-chan struct{}) error {
	select {
	case <-wake:
		return nil
	case <-stream.Context().Done():
		return status.FromContextError(stream.Context().Err()).Err()
	case <-sub.dropped:
		return droppedStatus()
	}
}

func checkDropped(sub *subscription) error {
	select {
	case <-sub.dropped:
		return droppedStatus()
	default:
		return nil
	}
}

func droppedStatus() error {
	return status.Error(codes.Unavailable, "subscription dropped by the kurrentdb stand-in")
}
