package notify

import (
	"testing"

	"herald/domain"
)

func TestEventCache_answersForThePositionItHolds(t *testing.T) {
	var c eventCache
	if _, ok := c.get(7); ok {
		t.Fatal("an empty cache answered")
	}
	c.put(7, domain.LogEvent{ID: "a"})
	if e, ok := c.get(7); !ok || e.ID != "a" {
		t.Fatalf("get(7) = %q %v", e.ID, ok)
	}
	c.put(7+uint64(len(c.slots)), domain.LogEvent{ID: "b"}) // the same slot
	if _, ok := c.get(7); ok {
		t.Fatal("answered for 7 after its slot was taken")
	}
	c.put(0, domain.LogEvent{ID: "zero"})
	if _, ok := c.get(0); ok {
		t.Fatal("answered for position 0, which no record has")
	}
}

// The deliverer reads a job's event from the cache only when the cached event is the job's.
func TestDeliverer_eventIsTheJobs(t *testing.T) {
	d := &Deliverer{}
	fact := func(id string) []byte {
		return domain.EventRecorded{Event: domain.LogEvent{ID: id, Level: domain.LevelInfo, Type: "t.x", Message: "m"}}.Encode().Data
	}
	first, err := d.event(Job{EventID: "a", Position: 3, Fact: fact("a")})
	if err != nil || first.ID != "a" {
		t.Fatalf("event = %q, %v", first.ID, err)
	}
	again, err := d.event(Job{EventID: "b", Position: 3, Fact: fact("b")}) // another store's position 3
	if err != nil || again.ID != "b" {
		t.Fatalf("event = %q, %v; want the job's own", again.ID, err)
	}
}
