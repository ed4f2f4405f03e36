package domain

import (
	"errors"
	"fmt"
	"time"
)

// The vocabulary every event store speaks. Commands append facts to streams; projections
// read all facts in the store's global order. The adapters (embedded log, KurrentDB) map
// these onto their engines.

// Sentinel errors of event stores.
var (
	// ErrConcurrency means the stream was not at the expected revision.
	ErrConcurrency = errors.New("wrong expected revision")
	// ErrStreamNotFound means the stream holds no facts.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrStreamDeleted means the stream was deleted; it can be neither read nor written again.
	ErrStreamDeleted = errors.New("stream deleted")
	// ErrEventNotFound means no event with that id is in the log: never recorded, deleted, or
	// belonging to an account the caller cannot see.
	ErrEventNotFound = errors.New("event not found")
)

// EventNotFound is ErrEventNotFound for one id, in the words its reader sees.
func EventNotFound(id string) error {
	return notFound{fmt.Sprintf("no event with id %s (never recorded, deleted, or in an account you cannot see)", id), ErrEventNotFound}
}

// notFound is a not-found error for one id: its own message, matching its sentinel with
// errors.Is.
type notFound struct {
	msg      string
	sentinel error
}

func (e notFound) Error() string { return e.msg }
func (e notFound) Unwrap() error { return e.sentinel }

// StreamPrefixes are the prefixes of every stream herald writes. A store shared with other
// applications (KurrentDB) follows only these.
func StreamPrefixes() []string {
	return []string{
		AccountStreamPrefix, ConfigurationStreamPrefix, DeliveryStreamPrefix, EndpointStreamPrefix,
		LogEventStreamPrefix, EventLogStreamPrefix, UserNameStreamPrefix, HeraldStreamPrefix,
	}
}

// UserNameStreamPrefix starts the streams that reserve user names across accounts.
const UserNameStreamPrefix = "username-"

// HeraldStreamPrefix starts herald's own streams (the secret key's registration).
const HeraldStreamPrefix = "herald-"

// StreamDeletedType is the type of the record a store writes to the global log when a stream
// is deleted, so that projections following the log learn of the deletion. Its Stream is the
// deleted stream and it carries no data. (KurrentDB writes the same "$streamDeleted" record.)
const StreamDeletedType = "$streamDeleted"

// ExpectedRevision is the state a stream must be in for an append or a delete to go through.
type ExpectedRevision struct {
	kind     expectKind
	revision uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectStreamExists
	expectExact
)

// Any accepts the stream in any state.
func Any() ExpectedRevision { return ExpectedRevision{kind: expectAny} }

// NoStream requires that the stream has never been written; it makes recording idempotent.
func NoStream() ExpectedRevision { return ExpectedRevision{kind: expectNoStream} }

// StreamExists requires that the stream holds at least one fact.
func StreamExists() ExpectedRevision { return ExpectedRevision{kind: expectStreamExists} }

// Exact requires that the last fact of the stream has revision r (revisions count from 0).
func Exact(r uint64) ExpectedRevision { return ExpectedRevision{kind: expectExact, revision: r} }

// IsAny, IsNoStream, IsStreamExists and ExactRevision let adapters translate the expectation.
func (e ExpectedRevision) IsAny() bool          { return e.kind == expectAny }
func (e ExpectedRevision) IsNoStream() bool     { return e.kind == expectNoStream }
func (e ExpectedRevision) IsStreamExists() bool { return e.kind == expectStreamExists }

// ExactRevision returns the revision and true when the expectation is Exact.
func (e ExpectedRevision) ExactRevision() (uint64, bool) { return e.revision, e.kind == expectExact }

// Check tells whether a stream whose last revision is current (exists false when it holds no
// facts) satisfies the expectation; the error wraps ErrConcurrency.
func (e ExpectedRevision) Check(stream string, current uint64, exists bool) error {
	ok := true
	switch e.kind {
	case expectNoStream:
		ok = !exists
	case expectStreamExists:
		ok = exists
	case expectExact:
		ok = exists && current == e.revision
	}
	if ok {
		return nil
	}
	have := "no stream"
	if exists {
		have = fmt.Sprintf("revision %d", current)
	}
	return fmt.Errorf("%s: expected %s, found %s: %w", stream, e, have, ErrConcurrency)
}

func (e ExpectedRevision) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectStreamExists:
		return "stream exists"
	case expectExact:
		return fmt.Sprintf("revision %d", e.revision)
	}
	return "any"
}

// Fact is an encoded fact ready to be appended: its type name and its versioned JSON.
type Fact struct {
	Type string
	Data []byte
}

// Record is a fact as the store keeps it.
type Record struct {
	Stream   string
	Revision uint64    // position in its stream, from 0
	Position uint64    // position in the global log, from 1, strictly increasing
	Type     string    // fact type, or StreamDeletedType
	Data     []byte    // versioned JSON
	Time     time.Time // when the store accepted it
}

// AppendResult tells where an append landed.
type AppendResult struct {
	NextRevision uint64 // revision of the last fact appended
	Position     uint64 // global position of the last fact appended
}

// StreamAppend is one append in a batch: facts for one stream with its expectation.
type StreamAppend struct {
	Stream   string
	Expected ExpectedRevision
	Facts    []Fact
}

// AppendOutcome is the result of one append of a batch: where it landed, or why it did not.
type AppendOutcome struct {
	Result AppendResult
	Err    error
}
