package embedded

import (
	"fmt"
	"sync"
)

// runAcker waits for each group's fsync, in order, then makes the group visible to readers
// and acknowledges its callers; a deletion goes back to the writer to have its facts purged
// and is acknowledged after that. After a failure nothing later is acknowledged.
func (s *Store) runAcker(committed <-chan *group) {
	defer close(s.ackerDone)
	var broken error
	for g := range committed {
		err := g.err
		if g.applied {
			if serr := g.batch.SyncWait(); serr != nil && err == nil {
				err = serr
			}
		}
		_ = g.batch.Close()
		if err == nil {
			err = broken
		}
		if err != nil {
			broken = err
			s.fail(err)
		} else if g.lastPos > s.durable.Load() {
			s.tail.push(g.records) // before readers may ask for them
			s.durable.Store(g.lastPos)
			s.broadcast()
		}
		for _, r := range g.reqs {
			if err == nil && r.isDelete() && r.purge {
				s.tail.clear() // the purged facts leave reads before the deletion returns
			}
			if err == nil && r.isDelete() && r.err == nil && !r.purge {
				r.purge = true
				s.purges.push(r)
				continue
			}
			if err != nil {
				r.failed = fmt.Errorf("commit: %w", err)
			}
			close(r.done)
		}
	}
}

// purgeQueue holds deletions whose tombstones are durable, for the writer to purge. The acker
// must never block on the writer (the writer may be blocked handing it a group), hence a
// queue rather than a channel.
type purgeQueue struct {
	mu    sync.Mutex
	reqs  []*request
	ready chan struct{} // holds a token while reqs is not empty
}

func newPurgeQueue() *purgeQueue { return &purgeQueue{ready: make(chan struct{}, 1)} }

func (q *purgeQueue) push(r *request) {
	q.mu.Lock()
	q.reqs = append(q.reqs, r)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *purgeQueue) take() []*request {
	q.mu.Lock()
	defer q.mu.Unlock()
	reqs := q.reqs
	q.reqs = nil
	return reqs
}
