package main

import (
	"context"

	"herald/adapters/views/memory"
	"herald/projections"
)

// viewSet waits on every view's runner, so that a mutation answers once all views show it.
type viewSet struct {
	head    func(context.Context) (uint64, error)
	runners []*projections.Runner
}

// WaitFor implements graph.ViewWaiter.
func (v viewSet) WaitFor(ctx context.Context, position uint64) error {
	for _, r := range v.runners {
		if err := r.WaitFor(ctx, position); err != nil {
			return err
		}
	}
	return nil
}

// WaitForHead implements graph.ViewWaiter.
func (v viewSet) WaitForHead(ctx context.Context) error {
	head, err := v.head(ctx)
	if err != nil {
		return err
	}
	return v.WaitFor(ctx, head)
}

func memoryEventLog() projections.EventLogView            { return memory.NewEventLog() }
func memoryConfigurations() projections.ConfigurationView { return memory.NewConfigurations() }
func memoryAccounts() projections.AccountView             { return memory.NewAccounts() }
