package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestE2E_subscriptionStreamsRecordedEvents subscribes to eventRecorded over a websocket
// (graphql-transport-ws), records events, and expects exactly the matching ones.
func TestE2E_subscriptionStreamsRecordedEvents(t *testing.T) {
	s := startServer(t, t.TempDir(), freePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(s.url, "http", "ws", 1)+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	read := func() map[string]any {
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			if m["type"] != "ping" && m["type"] != "pong" && m["type"] != "ka" {
				return m
			}
		}
	}
	send(map[string]any{"type": "connection_init"})
	if m := read(); m["type"] != "connection_ack" {
		t.Fatalf("want connection_ack, got %v", m)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query": `subscription { eventRecorded(filter: {level: ERROR}) { id type message details } }`,
	}})
	// The subscription is registered asynchronously; record until the first event arrives.
	got := make(chan map[string]any, 1)
	go func() { got <- read() }()
	deadline := time.After(10 * time.Second)
	for {
		s.record(
			map[string]any{"level": "INFO", "type": "system.feeds.sync.started", "message": "ignored"},
			map[string]any{"level": "ERROR", "type": "user.image.analysis.failed", "message": "analysis failed", "details": "boom"},
		)
		select {
		case m := <-got:
			payload := m["payload"].(map[string]any)["data"].(map[string]any)["eventRecorded"].(map[string]any)
			if m["type"] != "next" || payload["type"] != "user.image.analysis.failed" || payload["details"].(map[string]any)["msg"] != "boom" {
				t.Fatalf("unexpected message %v", m)
			}
			return
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("no event arrived on the subscription")
		}
	}
}
