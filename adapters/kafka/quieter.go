package kafka

import (
	"sync"
	"time"
)

// clientErrorEvery is how often a warning from kafka-go's own error log is let through while
// such errors keep coming. With the brokers down, kafka-go reports each failed dial, about
// twice a second; the watcher has already said once that the brokers are unavailable.
const clientErrorEvery = time.Minute

// quieter lets a repeated warning through once per interval and counts what it held back.
type quieter struct {
	every time.Duration

	mu   sync.Mutex
	next time.Time // when the next warning may pass
	held int       // warnings held back since the last one passed
}

// pass tells whether a warning at now is to be logged, and if so how many were held back
// since the last one that was.
func (q *quieter) pass(now time.Time) (ok bool, held int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if now.Before(q.next) {
		q.held++
		return false, 0
	}
	held, q.held, q.next = q.held, 0, now.Add(q.every)
	return true, held
}
