package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	redisview "herald/adapters/views/redis"
	"herald/internal/testtool"
)

// While herald runs, another store claiming the views (after Redis lost its data) is logged
// once and refused in /readyz until the views follow this store again.
func TestOneStore_recheckTellsAChangeOfAnswer(t *testing.T) {
	logs := &testtool.Buffer{}
	a := &app{logger: slog.New(slog.NewTextHandler(logs, nil))}
	other := true
	o := &oneStore{identity: "mine", prefix: "herald:", claim: func(context.Context, string) error {
		if other {
			return fmt.Errorf("%w: herald:store holds theirs", redisview.ErrOtherStore)
		}
		return nil
	}}
	o.recheck(t.Context(), a)
	o.recheck(t.Context(), a)
	if err := o.refused(); err == nil || !strings.Contains(err.Error(), "herald:store holds theirs") {
		t.Fatalf("refused() = %v, want the other store named", err)
	}
	if n := strings.Count(logs.String(), "stop one of them"); n != 1 {
		t.Errorf("the claim by another store is logged %d times, want once:\n%s", n, logs)
	}
	other = false
	o.recheck(t.Context(), a)
	if err := o.refused(); err != nil {
		t.Errorf("refused() = %v once the views follow this store again", err)
	}
	if !strings.Contains(logs.String(), "follow this instance's event store again") {
		t.Errorf("the return is not logged:\n%s", logs)
	}
}
