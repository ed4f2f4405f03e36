package standin

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/google/uuid"
	"github.com/kurrent-io/KurrentDB-Client-Go/protos/kurrentdb/protocols/v1/shared"
	api "github.com/kurrent-io/KurrentDB-Client-Go/protos/kurrentdb/protocols/v1/streams"
)

// The system metadata keys of an event, and the content types the server knows.
const (
	metaType        = "type"
	metaContentType = "content-type"
	metaCreated     = "created"
	contentJSON     = "application/json"
	contentBinary   = "application/octet-stream"
)

// expectationOf reads an expected revision; a revision too large for the server's int64 is
// one no stream reaches.
func expectationOf(any, noStream, streamExists bool, revision uint64) expectation {
	switch {
	case any:
		return expectAny
	case noStream:
		return expectNoStream
	case streamExists:
		return expectStreamExists
	}
	return expectation(min(revision, math.MaxInt64-1))
}

// uuidOf reads an event id in either of the protocol's encodings.
func uuidOf(id *shared.UUID) (uuid.UUID, error) {
	if s := id.GetStructured(); s != nil {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], uint64(s.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(b[8:], uint64(s.GetLeastSignificantBits()))
		return uuid.UUID(b), nil
	}
	u, err := uuid.Parse(id.GetString_())
	if err != nil {
		return uuid.Nil, fmt.Errorf("event id %q is not a UUID: %w", id.GetString_(), err)
	}
	return u, nil
}

// uuidProto encodes an event id as the read asked: structured, or as a string.
func uuidProto(id uuid.UUID, asString bool) *shared.UUID {
	if asString {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}

// proposalOf reads a proposed event; type and content-type are required, as on the real
// server, which keeps only whether the content is JSON.
func proposalOf(m *api.AppendReq_ProposedMessage) (proposal, error) {
	eventType, ok := m.GetMetadata()[metaType]
	if !ok {
		return proposal{}, missingMetadataStatus(metaType)
	}
	contentType, ok := m.GetMetadata()[metaContentType]
	if !ok {
		return proposal{}, missingMetadataStatus(metaContentType)
	}
	id, err := uuidOf(m.GetId())
	if err != nil {
		return proposal{}, err
	}
	return proposal{id: id, eventType: eventType, isJSON: contentType == contentJSON, data: m.GetData(), metadata: m.GetCustomMetadata()}, nil
}

// recordedEvent is a record as reads and subscriptions send it. "created" is in .NET ticks
// (100 ns) since the Unix epoch: the client parses it and exits the process if it is missing.
func recordedEvent(r *record, uuidAsString bool) *api.ReadResp_ReadEvent_RecordedEvent {
	contentType := contentBinary
	if r.isJSON {
		contentType = contentJSON
	}
	return &api.ReadResp_ReadEvent_RecordedEvent{
		Id:               uuidProto(r.id, uuidAsString),
		StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
		StreamRevision:   r.revision,
		PreparePosition:  r.pos,
		CommitPosition:   r.pos,
		Metadata: map[string]string{
			metaType:        r.eventType,
			metaContentType: contentType,
			metaCreated:     strconv.FormatInt(r.created.UnixNano()/100, 10),
		},
		CustomMetadata: r.metadata,
		Data:           r.data,
	}
}

// eventResp wraps a record for the read stream; withPosition is set for $all, where the real
// server fills the resolved event's commit position.
func eventResp(r *record, uuidAsString, withPosition bool) *api.ReadResp {
	ev := &api.ReadResp_ReadEvent{Event: recordedEvent(r, uuidAsString)}
	if withPosition {
		ev.Position = &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.pos}
	} else {
		ev.Position = &api.ReadResp_ReadEvent_NoPosition{NoPosition: &shared.Empty{}}
	}
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: ev}}
}
