package main

import (
	"context"
	"fmt"
	"strings"

	"herald/adapters/views/memory"
	"herald/domain"
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

// runnerControl reports and rebuilds the views (graph.ProjectionControl).
type runnerControl struct {
	head     func(context.Context) (uint64, error)
	runners  []*projections.Runner
	dispatch *projections.Runner // reported, never rebuilt; nil when notifications are off
}

// Progress implements graph.ProjectionControl.
func (c runnerControl) Progress(ctx context.Context) ([]projections.Progress, uint64, error) {
	head, err := c.head(ctx)
	if err != nil {
		return nil, 0, err
	}
	out := make([]projections.Progress, len(c.runners), len(c.runners)+1)
	for i, r := range c.runners {
		out[i] = r.Progress()
	}
	if c.dispatch != nil {
		out = append(out, c.dispatch.Progress())
	}
	return out, head, nil
}

// Rebuild implements graph.ProjectionControl.
func (c runnerControl) Rebuild(ctx context.Context, view string) error {
	var targets []*projections.Runner
	names := make([]string, len(c.runners))
	for i, r := range c.runners {
		names[i] = r.Name()
		if view != "" && r.Name() != view {
			continue
		}
		if r.Progress().Standby { // checked for all before any view is dropped
			return fmt.Errorf("view %s is applied by another herald instance (it holds the view's lease): run the rebuild against that instance", r.Name())
		}
		targets = append(targets, r)
	}
	var dropped []<-chan struct{}
	for _, r := range targets {
		dropped = append(dropped, r.Rebuild())
	}
	if len(dropped) == 0 {
		return &domain.ValidationError{Fields: []domain.FieldError{{Field: "name", Message: fmt.Sprintf("%q is not a view; use one of %s", view, strings.Join(names, ", "))}}}
	}
	for _, d := range dropped {
		select {
		case <-d:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
