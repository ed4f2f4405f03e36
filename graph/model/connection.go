package model

import (
	"herald/domain"
	"herald/projections"
)

// EventConnection is one page of events. Filter is kept so that totalCount, which costs a
// count over the view, is computed only when a client asks for it.
type EventConnection struct {
	Edges    []EventEdge `json:"edges"`
	Nodes    []Event     `json:"nodes"`
	PageInfo *PageInfo   `json:"pageInfo"`
	Filter   domain.EventFilter
}

// NotificationDeliveryPage is one page of the delivery history. Filter is kept so that
// totalCount is computed only when a client asks for it.
type NotificationDeliveryPage struct {
	Deliveries []NotificationDelivery `json:"deliveries"`
	// Pass as `after` for the next page; null on the last.
	Next   *string `json:"next,omitempty"`
	Filter projections.DeliveryFilter
}
