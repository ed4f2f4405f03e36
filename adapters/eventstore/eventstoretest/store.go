// Package eventstoretest is the contract every event-store adapter must pass. An adapter's
// own test calls TestStore with a constructor for fresh, empty stores; the suite runs every
// contract test against it in parallel, each on its own streams.
package eventstoretest

import "herald/adapters/eventstore"

// Store is everything herald asks of an event store (eventstore.Store).
type Store = eventstore.Store
