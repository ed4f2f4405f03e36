package redis

import (
	"encoding/json"
	"fmt"
	"time"

	"herald/domain"
)

// storedDeliveryV1 is a delivery as the view stores it: versioned JSON. The query script
// reads "status", "at_s" and "at_ns" straight from the stored text (deliveries_lua.go), so
// their names and forms must stay. The time is two integers rather than a timestamp string
// because the script compares times: Lua compares strings by the server's locale, and
// numbers exactly below 2^53 (seconds within 285 million years of 1970).
type storedDeliveryV1 struct {
	V               int                    `json:"v"`
	Position        uint64                 `json:"position"`
	AtSeconds       int64                  `json:"at_s"`
	AtNanos         int                    `json:"at_ns"`
	Status          domain.DeliveryStatus  `json:"status"`
	EventID         string                 `json:"event_id"`
	ConfigurationID string                 `json:"configuration_id"`
	Account         string                 `json:"account"`
	Kind            domain.EndpointKind    `json:"kind"`
	EventType       string                 `json:"event_type,omitempty"`
	Level           domain.Level           `json:"level,omitempty"`
	ReceiverStatus  int                    `json:"receiver_status,omitempty"`
	Attempts        int                    `json:"attempts"`
	LatencyNanos    int64                  `json:"latency_ns"`
	Error           string                 `json:"error,omitempty"`
	Trigger         domain.DeliveryTrigger `json:"trigger"`
}

// encodeDelivery writes d as stored.
func encodeDelivery(d *domain.Delivery) ([]byte, error) {
	data, err := json.Marshal(storedDeliveryV1{
		V: storedVersion, Position: d.Position, AtSeconds: d.At.Unix(), AtNanos: d.At.Nanosecond(), Status: d.Status,
		EventID: d.EventID, ConfigurationID: d.ConfigurationID, Account: d.Account, Kind: d.Kind, EventType: d.EventType,
		Level: d.Level, ReceiverStatus: d.ReceiverStatus, Attempts: d.Attempts, LatencyNanos: int64(d.Latency),
		Error: d.Error, Trigger: d.Trigger,
	})
	if err != nil {
		return nil, fmt.Errorf("encode delivery at %d: %w", d.Position, err)
	}
	return data, nil
}

// decodeDelivery reads what encodeDelivery wrote.
func decodeDelivery(data []byte) (domain.Delivery, error) {
	var w storedDeliveryV1
	if err := json.Unmarshal(data, &w); err != nil {
		return domain.Delivery{}, fmt.Errorf("decode delivery: %w", err)
	}
	if w.V != storedVersion {
		return domain.Delivery{}, fmt.Errorf("decode delivery at %d v%d: %w", w.Position, w.V, errUnknownVersion)
	}
	return domain.Delivery{
		EventID: w.EventID, ConfigurationID: w.ConfigurationID, Account: w.Account, Kind: w.Kind, EventType: w.EventType,
		Level: w.Level, Status: w.Status, ReceiverStatus: w.ReceiverStatus, Attempts: w.Attempts,
		Latency: time.Duration(w.LatencyNanos), Error: w.Error, Trigger: w.Trigger,
		At: time.Unix(w.AtSeconds, int64(w.AtNanos)).UTC(), Position: w.Position,
	}, nil
}
