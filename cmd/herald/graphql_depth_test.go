package main

import (
	"strings"
	"testing"
)

// introspectionQuery is the query GraphiQL (graphql-js's getIntrospectionQuery) sends to fill
// its Docs pane and its completion: its type references nest 13 fields deep.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

// TestGraphQL_depthLimitLetsIntrospectionThrough: GraphiQL's introspection query is
// answered (its Docs pane and completion depend on it), while an operation nested deeper
// than the limit, and an introspection query nested absurdly deep, are refused.
func TestGraphQL_depthLimitLetsIntrospectionThrough(t *testing.T) {
	t.Parallel()
	app := startTestApp(t, t.TempDir(), testSecretKey)
	data := app.mustGQL(adminAuth(), introspectionQuery, nil)
	schema, _ := data["__schema"].(map[string]any)
	if types, _ := schema["types"].([]any); len(types) < 10 {
		t.Fatalf("introspection answered %d types: %v", len(types), data)
	}

	nested := "query { __type(name: \"Query\") { name" + strings.Repeat(" ofType { name", 30) + strings.Repeat(" }", 30) + " } }"
	if res := app.gql(adminAuth(), nested, nil); res.code() != "DEPTH_LIMIT_EXCEEDED" || !strings.Contains(res.Raw, "introspection is nested 32 fields deep") {
		t.Errorf("an introspection query 32 deep: %s", res.Raw)
	}
}
