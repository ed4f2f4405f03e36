package graph

import (
	"context"
	"encoding/json"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"herald/domain"
)

// strictVariables refuses the variables gqlparser coerces where the GraphQL spec does not: a
// number for a String (a filter on type: 5 would look for "5") and a string for an Int or a
// Float (first: "10"). Such a value is most often a client's mistake, which taking it hides
// until the answer surprises.
type strictVariables struct{ schema *ast.Schema }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = strictVariables{}

func (strictVariables) ExtensionName() string                   { return "StrictVariables" }
func (strictVariables) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext runs after gqlparser has checked the variables against their types,
// so only the kinds it lets through are left to refuse.
func (s strictVariables) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	for _, def := range op.Operation.VariableDefinitions {
		path := ast.Path{ast.PathName("variable"), ast.PathName(def.Variable)}
		if err := s.check(path, def.Type, op.Variables[def.Variable]); err != nil {
			errcode.Set(err, errcode.ValidationFailed) // as gqlgen marks gqlparser's refusals
			return err
		}
	}
	return nil
}

func (s strictVariables) check(path ast.Path, typ *ast.Type, v any) *gqlerror.Error {
	if v == nil || typ == nil {
		return nil
	}
	if typ.Elem != nil {
		// gqlparser turns one value given for a list into a typed list of one
		// ([]map[string]any), as the spec reads it: any slice is a list here.
		list := reflect.ValueOf(v)
		if list.Kind() != reflect.Slice {
			return s.check(append(path[:len(path):len(path)], ast.PathIndex(0)), typ.Elem, v)
		}
		for i := range list.Len() {
			if err := s.check(append(path[:len(path):len(path)], ast.PathIndex(i)), typ.Elem, list.Index(i).Interface()); err != nil {
				return err
			}
		}
		return nil
	}
	def := s.schema.Types[typ.NamedType]
	if def == nil {
		return nil
	}
	switch def.Kind {
	case ast.Scalar:
		switch typ.NamedType {
		case "String":
			if n, ok := v.(json.Number); ok {
				return gqlerror.ErrorPathf(path, "must be a String, not the number %s; quote it if it is meant as text", domain.Truncate(string(n), domain.MaxQuoted))
			}
		case "Int", "Float":
			if str, ok := v.(string); ok {
				return gqlerror.ErrorPathf(path, "must be a number (%s), not the string %s; leave out the quotes", typ.NamedType, domain.Quote(str))
			}
		}
	case ast.InputObject:
		fields, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for _, f := range def.Fields {
			if err := s.check(append(path[:len(path):len(path)], ast.PathName(f.Name)), f.Type, fields[f.Name]); err != nil {
				return err
			}
		}
	}
	return nil
}
