// Package standin is a test stand-in for a KurrentDB (EventStoreDB) node: an in-process gRPC
// server that implements the subset of KurrentDB's gRPC protocol herald uses, so that the
// kurrentdb adapter's contract tests can run the official Go client
// (github.com/kurrent-io/KurrentDB-Client-Go) against it on a machine where no KurrentDB server
// can be installed. It is not a database: everything lives in memory, nothing is durable, and
// it serves one test process. Start it, connect the real client to URL(), and close it:
//
//	srv, err := standin.Start()
//	...
//	defer srv.Close()
//	cfg, _ := kurrentdb.ParseConnectionString(srv.URL()) // kurrentdb://127.0.0.1:PORT?tls=false
//	client, _ := kurrentdb.NewClient(cfg)
//
// # API
//
//   - Start() / StartWith(Options) serve a new, empty stand-in on a loopback port.
//   - URL() is the connection string, Addr() the host:port.
//   - DropSubscriptions() aborts every active subscription with gRPC Unavailable and says how
//     many it dropped; Subscriptions() counts the active ones. Both are for testing
//     resubscription.
//   - WriteStatsEvent() appends a system event to a $stats stream, as the real node does every
//     so often, so that filters and position handling meet events herald did not write.
//   - Close() stops the server and ends every call in flight.
//
// # What is faithful
//
// The behaviour below follows KurrentDB's server source (the gRPC Streams service, its read
// enumerators and the index writer's commit check), as answered to the v1.1.2 Go client:
//
//   - Connecting: the client calls only ServerFeatures.GetSupportedMethods (no gossip for a
//     single-node connection string). The stand-in lists the methods it implements and
//     reports version "25.1.0-herald-standin". Any credentials are accepted; there is no TLS.
//   - Append (the client-streaming Append RPC; BatchAppend and the v2 AppendSession are not
//     offered, so the client never uses them): expected revision any, no_stream,
//     stream_exists or an exact revision, checked as the real commit check does, including
//     idempotent retries (the same event ids after the same expectation return the earlier
//     result instead of appending twice) and the soft-delete cases below. A mismatch answers
//     AppendResp.WrongExpectedVersion with the current revision or "no stream". Appending to a
//     tombstoned stream fails with FailedPrecondition and the "exception: stream-deleted"
//     trailer. Appending no events checks the expectation and writes nothing: to a missing
//     stream it answers "no stream" and no position. The type and content-type metadata are
//     required, and one append may carry at most 1 MiB of payload, as by default.
//   - Events keep their ids, type, content type (application/json or
//     application/octet-stream, from the JSON flag the server stores), data and custom
//     metadata. Reads add the "created" metadata key, .NET ticks (100 ns) since the Unix
//     epoch, which the client requires.
//   - $all positions are byte-offset-like: commit == prepare, strictly increasing, and each
//     record advances the position by its encoded size plus a header, so they are sparse. The
//     log starts with an $epoch-information record at position 0 which, as on the real server,
//     every $all read and subscription hides (the server's default $all filter, which also
//     hides persistent subscriptions' checkpoint and parked streams): the first event a client
//     sees is not at 0. A $statsCollected event goes to $stats-127.0.0.1:2113 at start and
//     after every tenth write (Options.StatsEvery), or on WriteStatsEvent, as on a node that
//     writes its stats to the database.
//   - ReadStream forwards or backwards from start, end or a revision (inclusive both ways),
//     with a count. A stream with no events, or soft-deleted, answers the StreamNotFound
//     message; a tombstoned one fails with the stream-deleted trailer. Truncate-before ($tb)
//     in stream metadata is honoured, and a metastream ($$name) shows only its latest event
//     (its implicit $maxCount of 1), so GetStreamMetadata works.
//   - Tombstone writes a $streamDeleted event at revision math.MaxInt64 to the stream,
//     visible in $all and to subscriptions; reads and appends then fail as deleted, and so do
//     reads of its metastream. Delete (soft) writes a $metadata event with
//     $tb = math.MaxInt64 to $$name, keeping the rest of the metadata; reads then say not
//     found; a later append (any, no_stream or the last revision) continues the revisions and
//     first rewrites the metadata with $tb = the first new revision, as the real server does.
//     Both honour the expected revision; a mismatch fails with FailedPrecondition and the
//     "exception: wrong-expected-version" trailer.
//   - ReadAll forwards from a position includes the event at that position; backwards from a
//     position returns only events before it. A position that is not the start of a record
//     inside the log fails as the real server's InvalidPosition does (gRPC Unknown); a
//     position at or past the end reads nothing forwards. Filters on ReadAll are applied if
//     sent (the v1.1.2 client cannot send them).
//   - SubscribeToAll and SubscribeToStream: a Confirmation first; then history strictly after
//     the given position or revision (Start: everything; End: nothing old); a CaughtUp
//     message once history is delivered, carrying the subscription's checkpoint as the real
//     one does (the last event sent or the start position; for a filtered subscription the
//     last record considered; for a stream subscription the last revision); then live events, with no gap or duplicate across the transition
//     because both come from the same ordered log. Server-side filters on stream name or
//     event type, by prefixes or regex (Go's RE2 standing in for .NET regex). With a filter,
//     Checkpoint messages come every MaxSearchWindow x CheckpointInterval considered events
//     (not matched events) and once more when catch-up ends; without a filter no checkpoints
//     are sent, like the real server. A subscription from a position that is not a record
//     inside the log fails after its Confirmation with InvalidArgument.
//   - The server allows the client's 10 s keep-alive pings, which gRPC's default policy would
//     answer with GOAWAY.
//
// # What is simplified
//
//   - No persistence, no clustering (no Gossip, no not-leader answers), no access control,
//     no projections, no persistent subscriptions, no users, no BatchAppend, no v2
//     MultiStreamAppend.
//   - $maxCount and $maxAge in stream metadata are not enforced (only $tb, and the implicit
//     max count of metastreams); nothing is ever scavenged, so soft-deleted and truncated
//     events stay in $all, as they do on a real node until a scavenge.
//   - Links are not resolved (ResolveLinkTos is ignored); the stand-in writes no $> events.
//   - Catch-up checkpoints are placed at the last record considered in each page of
//     MaxSearchWindow records, where the real server uses the start of the page: both are
//     positions every earlier record has been considered at, which is all a checkpoint
//     promises. CaughtUp is sent once; the real server would send it again after falling
//     behind, which the stand-in never does (a slow reader slows its subscription instead).
//   - An idempotency check that only partly matches earlier events (the real server's
//     CorruptedIdempotency) answers WrongExpectedVersion.
//   - Stream reads and stream subscriptions carry no commit position on the ResolvedEvent
//     (RecordedEvent.Position is always set); $all reads and subscriptions carry it.
//   - A tombstone during a live stream subscription ends it with the stream-deleted error.
//   - DropSubscriptions ends a subscription the next time it is between two messages; one
//     blocked on a client that reads nothing ends when that client reads again or goes away.
package standin
