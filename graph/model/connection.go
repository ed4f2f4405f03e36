package model

import "herald/domain"

// EventConnection is one page of events. Filter is kept so that totalCount, which costs a
// count over the view, is computed only when a client asks for it.
type EventConnection struct {
	Edges    []EventEdge `json:"edges"`
	Nodes    []Event     `json:"nodes"`
	PageInfo *PageInfo   `json:"pageInfo"`
	Filter   domain.EventFilter
}
