package graph

import (
	"context"

	"herald/graph/model"
)

func (r *mutationResolver) RebuildProjection(ctx context.Context, name *string) ([]model.Projection, error) {
	if err := r.Resolver.Projections.Rebuild(ctx, value(name, "")); err != nil {
		return nil, err
	}
	return r.projectionList(ctx)
}

func (r *queryResolver) Projections(ctx context.Context) ([]model.Projection, error) {
	return r.projectionList(ctx)
}
