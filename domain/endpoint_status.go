package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// Fact types of endpoint status.
const (
	EndpointEnabledType  = "EndpointEnabled"
	EndpointDisabledType = "EndpointDisabled"
)

// EndpointStream names the stream of an endpoint kind's system-wide status.
func EndpointStream(kind EndpointKind) string { return EndpointStreamPrefix + string(kind) }

// EndpointStreamPrefix is the prefix of endpoint status streams.
const EndpointStreamPrefix = "endpoint-"

// EndpointStatusChanged is the fact EndpointEnabled or EndpointDisabled: whether anything is
// sent to configurations of a kind. Every kind is enabled until disabled.
type EndpointStatusChanged struct {
	Kind    EndpointKind
	Enabled bool
	By      string
	At      time.Time
}

type endpointStatusV1 struct {
	V    int          `json:"v"`
	Kind EndpointKind `json:"kind"`
	By   string       `json:"by,omitempty"`
	At   string       `json:"at"`
}

// Encode returns the fact ready to append.
func (f EndpointStatusChanged) Encode() Fact {
	typ := EndpointDisabledType
	if f.Enabled {
		typ = EndpointEnabledType
	}
	data, _ := json.Marshal(endpointStatusV1{V: factVersion, Kind: f.Kind, By: f.By, At: FormatTimestamp(f.At)})
	return Fact{Type: typ, Data: data}
}

// DecodeEndpointStatusChanged reads an EndpointEnabled or EndpointDisabled fact.
func DecodeEndpointStatusChanged(typ string, data []byte) (EndpointStatusChanged, error) {
	var w endpointStatusV1
	if err := json.Unmarshal(data, &w); err != nil {
		return EndpointStatusChanged{}, fmt.Errorf("decode %s: %w", typ, err)
	}
	if w.V != factVersion {
		return EndpointStatusChanged{}, fmt.Errorf("decode %s v%d: %w", typ, w.V, ErrUnknownFactVersion)
	}
	at, _ := ParseTimestamp(w.At)
	return EndpointStatusChanged{Kind: w.Kind, Enabled: typ == EndpointEnabledType, By: w.By, At: at}, nil
}
