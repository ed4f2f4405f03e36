package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestIsolation_bobNeverReachesAlice checks that a user of one account cannot see, count,
// delete or edit another account's events and configurations by any query, filter, cursor or
// id, and cannot record events in its name.
func TestIsolation_bobNeverReachesAlice(t *testing.T) {
	t.Parallel()
	base := startTestApp(t, t.TempDir(), testSecretKey)
	ts := setUpTenants(t, base)
	const listOp = `query($f: EventFilter, $after: String, $first: Int) {
		events(filter: $f, first: $first, after: $after) { totalCount nodes { id resource { userId } } pageInfo { endCursor } } }`

	t.Run("listing and counting show bob's events only", func(t *testing.T) {
		app := base.in(t)
		data := app.mustGQL(ts.bobRW, listOp, nil)
		if ids := eventIDs(data); !slices.Equal(ids, []string{"bob-ev-1", "bob-ev-0"}) {
			t.Errorf("bob lists %v, want his two events", ids)
		}
		if n := data["events"].(map[string]any)["totalCount"].(float64); n != 2 {
			t.Errorf("bob's totalCount %v, want 2", n)
		}
		for _, f := range []map[string]any{
			{"resource": "docker.io/alice/app:latest"},
			{"host": "alice-host"},
			{"type": "user.image.*", "level": "ERROR", "resourceType": "image_tag", "service": "analyzer"},
		} {
			data := app.mustGQL(ts.bobRW, listOp, map[string]any{"f": f})
			for _, id := range eventIDs(data) {
				if !slices.Contains(ts.bobEvents, id) {
					t.Errorf("filter %v shows bob %s", f, id)
				}
			}
			if n := data["events"].(map[string]any)["totalCount"].(float64); int(n) != len(eventIDs(data)) {
				t.Errorf("filter %v: totalCount %v for %d visible events", f, n, len(eventIDs(data)))
			}
		}
	})

	t.Run("naming alice's account in a filter is forbidden, not widened", func(t *testing.T) {
		app := base.in(t)
		for _, op := range []string{listOp, `query($f: EventFilter) { events(filter: $f) { totalCount } }`} {
			res := app.gql(ts.bobRW, op, map[string]any{"f": map[string]any{"account": "alice"}})
			if res.code() != forbidden || res.Data["events"] != nil {
				t.Errorf("%s with account alice: %s", oneLine(op), res.Raw)
			}
		}
		res := app.gql(ts.bobRW, `mutation { deleteEvents(filter: {account: "alice"}) { count } }`, nil)
		if res.code() != forbidden {
			t.Errorf("deleteEvents of account alice by bob: %s", res.Raw)
		}
		res = app.subscribe(ts.bobRW, `subscription { eventRecorded(filter: {account: "alice"}) { id } }`, nil, nil)
		if res.code() != forbidden {
			t.Errorf("eventRecorded of account alice by bob: %s", res.Raw)
		}
		if n := totalCount(t, app, ts.aliceRW, nil); n != len(ts.aliceEvents) {
			t.Errorf("alice has %d events, want %d", n, len(ts.aliceEvents))
		}
	})

	t.Run("a cursor of alice's listing shows bob only his own events", func(t *testing.T) {
		app := base.in(t)
		data := app.mustGQL(ts.aliceRW, listOp, map[string]any{"first": 1})
		cursor := data["events"].(map[string]any)["pageInfo"].(map[string]any)["endCursor"].(string)
		data = app.mustGQL(ts.bobRW, listOp, map[string]any{"after": cursor})
		if ids := eventIDs(data); !slices.Equal(ids, []string{"bob-ev-1", "bob-ev-0"}) {
			t.Errorf("bob after alice's cursor lists %v, want only his own events", ids)
		}
	})

	t.Run("alice's ids read as not found", func(t *testing.T) {
		app := base.in(t)
		data := app.mustGQL(ts.bobRW, `query($id: ID!) { event(id: $id) { id } }`, map[string]any{"id": ts.aliceEvents[0]})
		if data["event"] != nil {
			t.Errorf("bob reads alice's event: %v", data)
		}
		data = app.mustGQL(ts.bobRW, `query($id: ID!) { getNotificationEndpointConfiguration(id: $id) { id } }`, map[string]any{"id": ts.aliceSlack})
		if data["getNotificationEndpointConfiguration"] != nil {
			t.Errorf("bob reads alice's configuration: %v", data)
		}
		data = app.mustGQL(ts.bobRW, `{ listNotificationEndpointConfigurations { id account } }`, nil)
		if list := data["listNotificationEndpointConfigurations"].([]any); len(list) != 0 {
			t.Errorf("bob lists configurations %v, want none", list)
		}
		res := app.gql(ts.bobRW, `{ listNotificationEndpointConfigurations(account: "alice") { id } }`, nil)
		if res.code() != forbidden {
			t.Errorf("bob listing alice's configurations: %s", res.Raw)
		}
	})

	t.Run("bob cannot edit, delete or remove alice's objects", func(t *testing.T) {
		app := base.in(t)
		const getConfig = `query($id: ID!) { getNotificationEndpointConfiguration(id: $id) { name revision } }`
		before := app.mustGQL(ts.aliceRW, getConfig, map[string]any{"id": ts.aliceSlack})
		res := app.gql(ts.bobRW, `mutation($id: ID!) { updateNotificationEndpointConfiguration(id: $id, input: {name: "bob was here", slack: {webhookUrl: "https://hooks.slack.com/services/bob"}}) { id } }`,
			map[string]any{"id": ts.aliceSlack})
		if res.code() != notFound {
			t.Errorf("bob updating alice's configuration: %s", res.Raw)
		}
		res = app.gql(ts.bobRW, `mutation($id: ID!) { deleteNotificationEndpointConfiguration(id: $id) }`, map[string]any{"id": ts.aliceSlack})
		if res.code() != notFound {
			t.Errorf("bob deleting alice's configuration: %s", res.Raw)
		}
		if after := app.mustGQL(ts.aliceRW, getConfig, map[string]any{"id": ts.aliceSlack}); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("alice's configuration changed from %v to %v", before, after)
		}
		res = app.gql(ts.bobRW, `mutation($id: ID!) { deleteEvent(id: $id) { id } }`, map[string]any{"id": ts.aliceEvents[1]})
		if res.code() != notFound {
			t.Errorf("bob deleting alice's event: %s", res.Raw)
		}
		data := app.mustGQL(ts.aliceRW, `query($id: ID!) { event(id: $id) { id } }`, map[string]any{"id": ts.aliceEvents[1]})
		if data["event"] == nil {
			t.Errorf("alice's event %s is gone after bob's deleteEvent", ts.aliceEvents[1])
		}
	})

	t.Run("bob cannot record events of alice", func(t *testing.T) {
		app := base.in(t)
		event := tenantEvent("bob-forges", "alice", 50)
		res := app.gql(ts.bobRW, recordEventsOp, map[string]any{"in": []any{event}})
		if res.code() != badUserInput || res.field() != "input[0].resource.userId" {
			t.Errorf("recordEvents by bob for alice: code %q field %q: %s", res.code(), res.field(), res.Raw)
		}
		res = app.gql(ts.bobRW, `mutation($e: String!) { recordEventsJSON(events: $e) { recorded } }`,
			map[string]any{"e": `{"id":"bob-forges-json","level":"info","type":"a.b","message":"m","resource":{"user_id":"alice"}}`})
		if res.code() != badUserInput || res.field() != "events[0].resource.user_id" {
			t.Errorf("recordEventsJSON by bob for alice: code %q field %q: %s", res.code(), res.field(), res.Raw)
		}
		if n := totalCount(t, app, ts.aliceRW, nil); n != len(ts.aliceEvents) {
			t.Errorf("alice has %d events after bob's attempts, want %d", n, len(ts.aliceEvents))
		}
	})

	t.Run("an id of alice's event is refused to bob, not taken for a duplicate", func(t *testing.T) {
		app := base.in(t)
		const op = `mutation($in: [EventInput!]!) { recordEvents(input: $in) { recorded duplicates refused results { id status reason } } }`
		data := app.mustGQL(ts.bobRW, op, map[string]any{"in": []any{tenantEvent(ts.aliceEvents[0], "bob", 70), tenantEvent("bob-own-70", "bob", 70)}})
		got := data["recordEvents"].(map[string]any)
		results := got["results"].([]any)
		refused := results[0].(map[string]any)
		if got["recorded"] != 1.0 || got["duplicates"] != 0.0 || got["refused"] != 1.0 || refused["status"] != "REFUSED" ||
			!strings.Contains(fmt.Sprint(refused["reason"]), "is taken by an event of another account") || results[1].(map[string]any)["status"] != "RECORDED" {
			t.Errorf("bob recording an id of alice's: %v", got)
		}
		event := app.mustGQL(ts.aliceRW, `query($id: ID!) { event(id: $id) { resource { userId } } }`, map[string]any{"id": ts.aliceEvents[0]})
		if fmt.Sprint(event["event"]) != "map[resource:map[userId:alice]]" {
			t.Errorf("alice's event after bob's refused copy: %v", event)
		}
	})

	t.Run("bob's subscription carries only bob's events", func(t *testing.T) {
		app := base.in(t)
		n := 0
		res := app.subscribe(ts.bobRW, `subscription { eventRecorded { id resource { userId } } }`, nil, func() {
			n++ // alice's event first, so that a leak would arrive before bob's
			app.mustGQL(ts.aliceRW, recordEventsOp, map[string]any{"in": []any{tenantEvent(fmt.Sprintf("alice-live-%d", n), "alice", 60)}})
			app.mustGQL(ts.bobRW, recordEventsOp, map[string]any{"in": []any{tenantEvent(fmt.Sprintf("bob-live-%d", n), "bob", 60)}})
		})
		got, _ := res.Data["eventRecorded"].(map[string]any)
		if len(res.Errors) > 0 || got == nil || got["resource"].(map[string]any)["userId"] != "bob" {
			t.Errorf("bob's subscription delivered %s", res.Raw)
		}
	})

	t.Run("eventTypes lists the catalog and the account's own other types only", func(t *testing.T) {
		app := base.in(t)
		for account, typ := range map[string]string{"alice": "user.acquisition.project_nightingale.started", "bob": "user.bob.custom"} {
			ev := tenantEvent(account+"-typed", account, 70)
			ev["type"] = typ
			auth := map[string]string{"alice": ts.aliceRW, "bob": ts.bobRW}[account]
			app.mustGQL(auth, recordEventsOp, map[string]any{"in": []any{ev}})
		}
		names := func(auth string) map[string]bool {
			out := map[string]bool{}
			for _, t := range app.mustGQL(auth, `{ eventTypes { name known } }`, nil)["eventTypes"].([]any) {
				out[t.(map[string]any)["name"].(string)] = true
			}
			return out
		}
		bob, admin := names(ts.bobRW), names(ts.admin)
		if bob["user.acquisition.project_nightingale.started"] || !bob["user.bob.custom"] || !bob["system.feeds.sync.completed"] {
			t.Errorf("bob's eventTypes: nightingale %v, his own %v, catalog %v; want false, true, true",
				bob["user.acquisition.project_nightingale.started"], bob["user.bob.custom"], bob["system.feeds.sync.completed"])
		}
		if !admin["user.acquisition.project_nightingale.started"] || !admin["user.bob.custom"] {
			t.Errorf("the admin's eventTypes lack an account's type: %v", admin)
		}
	})

	// Last: it removes bob's events.
	t.Run("deleteEvents with an empty filter clears bob's events only", func(t *testing.T) {
		app := base.in(t)
		aliceBefore := totalCount(t, app, ts.aliceRW, nil)
		bobBefore := totalCount(t, app, ts.bobRW, nil)
		data := app.mustGQL(ts.bobRW, `mutation { deleteEvents(filter: {}) { count } }`, nil)
		if n := data["deleteEvents"].(map[string]any)["count"].(float64); int(n) != bobBefore {
			t.Errorf("bob's deleteEvents cleared %v events, want his %d", n, bobBefore)
		}
		if n := totalCount(t, app, ts.bobRW, nil); n != 0 {
			t.Errorf("bob has %d events left", n)
		}
		if n := totalCount(t, app, ts.aliceRW, nil); n != aliceBefore {
			t.Errorf("alice has %d events after bob's clear, want %d", n, aliceBefore)
		}
		if n := totalCount(t, app, ts.admin, map[string]any{"account": "alice"}); n != aliceBefore {
			t.Errorf("the admin counts %d events of alice, want %d", n, aliceBefore)
		}
	})
}
